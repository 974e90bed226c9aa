"""Run the benchmarks and print their tables (`make bench`); the 11-minute `bench.platform_run`
runs on its own. `bench.status_page` seeds 20 million results once (~11 minutes on 2 cores)
and reuses them afterwards. Not a test: nothing is asserted."""

from __future__ import annotations

from rich.console import Console

from bench import api_ingest, concurrent_calls, db_writes, notify_delivery, pesq_cpu, status_page


def main() -> None:
    console = Console()
    console.print(pesq_cpu.main(20))
    console.print(db_writes.main(50_000, 500))
    console.print(api_ingest.main(api_ingest.parser().parse_args([])))
    console.print(notify_delivery.main(notify_delivery.parser().parse_args([])))
    console.print(concurrent_calls.run([1, 25, 50, 75, 100, 128], 8.0))
    console.print(status_page.main(status_page.parser().parse_args([])))


if __name__ == "__main__":
    main()

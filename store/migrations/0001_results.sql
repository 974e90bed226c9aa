-- One row per probe run (probes.result.CallResult), one typed column per field.
-- Units are in the column names; NULL means "not measured".
CREATE TABLE call_results (
    run_id        uuid             NOT NULL,
    probe         text             NOT NULL,
    target        text             NOT NULL,
    started_at    timestamptz      NOT NULL,
    outcome       text             NOT NULL CHECK (outcome IN (
        'ok', 'no_audio', 'sip_error', 'setup_timeout',
        'register_failed', 'invalid_input', 'engine_error'
    )),
    error         text,
    transport     text             NOT NULL,
    codec         text,
    sip_status    integer,
    sip_reason    text,
    register_ms   double precision,
    pdd_ms        double precision,
    setup_ms      double precision,
    talk_s        double precision,
    rx_packets    integer,
    rx_lost       integer,
    rx_loss_pct   double precision,
    tx_packets    integer,
    tx_lost       integer,
    tx_loss_pct   double precision,
    jitter_ms     double precision,
    jitter_max_ms double precision,
    rtt_ms        double precision,
    jb_discards   integer,
    jb_empty      integer,
    jb_delay_ms   double precision,
    pesq_mos      double precision,
    pesq_mode     text,
    pesq_ceiling  double precision,
    r_factor      double precision,
    emodel_mos    double precision,
    r0            double precision,
    ie_eff        double precision,
    id_delay      double precision,
    -- The partitioning column must be part of every unique index of a hypertable;
    -- (run_id, started_at) is what makes a re-posted result a no-op.
    PRIMARY KEY (run_id, started_at)
);

SELECT create_hypertable('call_results', by_range('started_at', INTERVAL '1 day'));

CREATE INDEX call_results_probe_started_at_idx ON call_results (probe, started_at DESC);

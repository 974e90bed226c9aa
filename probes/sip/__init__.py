"""The pjsua2 call engine: worker processes that carry live calls, and the asyncio side."""

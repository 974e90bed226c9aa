-- Call outcomes as they happened on the wire (issue 9): new outcomes, the facts
-- that explain them, and no scores for calls that carried no audio.

ALTER TABLE call_results DROP CONSTRAINT call_results_outcome_check;
ALTER TABLE call_results ADD CONSTRAINT call_results_outcome_check CHECK (outcome IN (
    'ok', 'no_audio', 'dropped', 'negotiation_failed', 'sip_error', 'redirected',
    'setup_timeout', 'unreachable', 'register_failed', 'invalid_input', 'engine_error',
    'failed', 'timeout'
));

ALTER TABLE call_results
    ADD COLUMN provisional_status integer,
    ADD COLUMN redirect_to        text,
    ADD COLUMN answer_codecs      text,
    ADD COLUMN media_direction    text,
    ADD COLUMN ended_by           text,
    ADD COLUMN dropped_after_ms   double precision,
    ADD COLUMN end_reason         text,
    ADD COLUMN audio_failed       text;

-- Calls stored before this carried 0 % loss and an E-model MOS for a call that
-- received no packet at all. Take them out of the hourly rollups first, then
-- clear them: a silent call must not hold a good MOS in any chart or SLA.
WITH silent AS (
    SELECT probe_id, coalesce(location, '') AS location,
           time_bucket('1 hour', started_at) AS bucket,
           coalesce(sum(coalesce(pesq_mos, emodel_mos)), 0) AS mos_sum,
           count(coalesce(pesq_mos, emodel_mos)) AS mos_n,
           coalesce(sum(jitter_ms), 0) AS jitter_sum, count(jitter_ms) AS jitter_n,
           coalesce(sum(greatest(rx_loss_pct, tx_loss_pct)), 0) AS loss_sum,
           count(greatest(rx_loss_pct, tx_loss_pct)) AS loss_n
    FROM call_results
    WHERE outcome = 'no_audio' AND coalesce(rx_packets, 0) = 0 AND probe_id IS NOT NULL
    GROUP BY 1, 2, 3
)
UPDATE result_rollup_hourly r SET
    mos_sum = r.mos_sum - s.mos_sum, mos_n = r.mos_n - s.mos_n,
    jitter_sum = r.jitter_sum - s.jitter_sum, jitter_n = r.jitter_n - s.jitter_n,
    loss_sum = r.loss_sum - s.loss_sum, loss_n = r.loss_n - s.loss_n
FROM silent s
WHERE r.probe_id = s.probe_id AND r.location = s.location AND r.bucket = s.bucket;

UPDATE call_results SET
    rx_lost = NULL, rx_loss_pct = NULL, jitter_ms = NULL, jitter_max_ms = NULL,
    jb_discards = NULL, jb_delay_ms = NULL, pesq_mos = NULL, pesq_mode = NULL,
    pesq_ceiling = NULL, r_factor = NULL, emodel_mos = NULL, r0 = NULL, ie_eff = NULL,
    id_delay = NULL, audio_failed = 'inbound'
WHERE outcome = 'no_audio' AND coalesce(rx_packets, 0) = 0;

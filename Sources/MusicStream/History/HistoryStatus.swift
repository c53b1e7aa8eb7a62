import JSON

/// What /api/status and /metrics say about the history: the store, the sink's state, how much
/// it stored and how far it is behind the topic. Built on the loop thread from the sink's
/// counters; the lag comes from librdkafka's cached watermarks (no broker round trip).
struct HistoryStatus: MetricsSource {
    let store: String
    let sink: HistorySink

    func write(to writer: inout JSONWriter) {
        let stats = sink.stats.current
        let lag = sink.lag()
        writer.beginObject()
        writer.key("store"); writer.string(store)
        writer.key("state"); writer.string(stats.state.rawValue)
        writer.key("log")
        if let log = stats.log { writer.string(log) } else { writer.null() }
        writer.key("stored"); writer.int(stats.stored)
        writer.key("duplicates_skipped"); writer.int(stats.duplicates)
        writer.key("rejected"); writer.int(stats.rejected)
        // Not stored yet: what the sink has not read, plus what it holds unwritten.
        writer.key("lag"); writer.int64(lag.values.reduce(0, +) + Int64(stats.held))
        writer.key("newest_stored")
        if let newest = stats.newestStored { writer.int64(newest) } else { writer.null() }
        writer.key("retention_deleted"); writer.int(stats.retentionDeleted)
        writer.key("missed"); writer.int64(stats.gaps)
        writer.key("last_error")
        if let error = stats.lastError { writer.string(error) } else { writer.null() }
        if let share = sink.share {
            // A member of the replicas' group: which partitions this one stores now.
            writer.key("group"); writer.string(share.group)
            writer.key("partitions")
            writer.beginArray()
            for partition in share.owned { writer.int(Int(partition)) }
            writer.endArray()
        }
        writer.endObject()
    }

    func writeMetrics(to output: inout PrometheusText) {
        let stats = sink.stats.current
        output.family("musicstream_history_up", "gauge", "1 while the history sink writes to its store, 0 while it fails or waits.")
        output.sample("musicstream_history_up", stats.state == .running ? 1 : 0)
        output.family("musicstream_history_listens_stored_total", "counter", "Listens written to the history store.")
        output.sample("musicstream_history_listens_stored_total", stats.stored)
        output.family("musicstream_history_duplicates_skipped_total", "counter",
                      "Listens the store already held (its unique (timestamp, event_id) refused them).")
        output.sample("musicstream_history_duplicates_skipped_total", stats.duplicates)
        output.family("musicstream_history_rejected_total", "counter", "Kafka records the history sink skipped as invalid.")
        output.sample("musicstream_history_rejected_total", stats.rejected)
        output.family("musicstream_history_write_failures_total", "counter", "Batches the store refused (then retried).")
        output.sample("musicstream_history_write_failures_total", stats.writeFailures)
        output.family("musicstream_history_write_seconds_total", "counter", "Time spent writing batches.")
        output.sample("musicstream_history_write_seconds_total", stats.writeSeconds)
        output.family("musicstream_history_retention_deleted_total", "counter", "Listens removed by retention.")
        output.sample("musicstream_history_retention_deleted_total", stats.retentionDeleted)
        output.family("musicstream_history_missed_total", "counter",
                      "Records the history sink never saw: the broker removed them before it read them.")
        output.sample("musicstream_history_missed_total", Int(stats.gaps))
        output.family("musicstream_history_held", "gauge", "Listens the history sink has read but not stored yet (its batch).")
        output.sample("musicstream_history_held", stats.held)
        output.family("musicstream_history_lag", "gauge", "Records of the topic not yet read by the history sink, per partition.")
        for (partition, lag) in sink.lag().sorted(by: { $0.key < $1.key }) {
            output.sample("musicstream_history_lag", labels: [("partition", String(partition))], Int(lag))
        }
    }
}

extension Duration {
    /// Whole milliseconds, saturating: librdkafka takes its times in milliseconds.
    package var milliseconds: Int64 {
        let parts = components
        return parts.seconds.multipliedReportingOverflow(by: 1000).overflow
            ? Int64.max : parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000
    }
}

extension Duration {
    /// The duration as seconds in a `Double`: what rates, timers and reports want.
    var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

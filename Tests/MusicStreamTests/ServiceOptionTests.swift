import Testing
@testable import MusicStream

/// `serve`'s settings come from one declaration each: flag over variable over default, ranges checked.
@Suite struct ServiceOptionTests {
    @Test func flagBeatsVariableWhichBeatsDefault() throws {
        var config = ServiceConfig()
        try ServeOptions.port.apply(flag: nil, environment: [:], to: &config)
        #expect(config.port == 5000)
        try ServeOptions.port.apply(flag: nil, environment: ["MUSICSTREAM_PORT": "6001"], to: &config)
        #expect(config.port == 6001)
        try ServeOptions.port.apply(flag: 7002, environment: ["MUSICSTREAM_PORT": "6001"], to: &config)
        #expect(config.port == 7002)
        // An empty variable counts as unset.
        try ServeOptions.topic.apply(flag: nil, environment: ["MUSICSTREAM_TOPIC": ""], to: &config)
        #expect(config.topic == "music-streams")
    }

    @Test func rangesAndSpellingsAreChecked() {
        var config = ServiceConfig()
        #expect(throws: ServiceOptionError.self) { try ServeOptions.port.check(65_536) }
        #expect(throws: ServiceOptionError.self) {
            try ServeOptions.idleTimeout.apply(flag: nil, environment: ["MUSICSTREAM_IDLE_TIMEOUT": "0"], to: &config)
        }
        #expect(throws: ServiceOptionError.self) {
            try ServeOptions.rate.apply(flag: nil, environment: ["MUSICSTREAM_RATE": "nan"], to: &config)
        }
        do {
            try ServeOptions.window.apply(flag: nil, environment: ["MUSICSTREAM_WINDOW": "ten"], to: &config)
            Issue.record("a non-number window was accepted")
        } catch {
            #expect(error.description == "MUSICSTREAM_WINDOW must be a whole number, got 'ten'")
        }
        #expect(config.windowCapacity == ServiceConfig().windowCapacity)
    }

    @Test func helpShowsTheDeclaredDefaultAndRange() {
        #expect(ServeOptions.maxStreamBuffer.help.contains("env MUSICSTREAM_MAX_STREAM_BUFFER; default \(ServiceConfig().maxPendingStreamBytes); range 4096...1073741824"))
        #expect(ServeOptions.writeToken.help.contains("default none"))
    }

    @Test func simulationDependsOnWhereKafkaIs() {
        var embedded = ServiceConfig()
        embedded.settleSimulation(simulate: nil)
        #expect(embedded.simulate && embedded.backfill == ServiceConfig.embeddedBackfill)
        var external = ServiceConfig()
        external.brokers = "127.0.0.1:9092"
        external.settleSimulation(simulate: nil)
        #expect(!external.simulate && external.backfill == 0)
        external.settleSimulation(simulate: true)
        #expect(external.simulate && external.backfill == 0)
    }
}

/// `--traffic` names a shape; anything else is refused by name.
@Suite struct TrafficOptionTests {
    @Test func trafficTakesTheThreeShapes() throws {
        var config = ServiceConfig()
        #expect(config.traffic == .steady)
        try ServeOptions.traffic.apply(flag: nil, environment: ["MUSICSTREAM_TRAFFIC": "Spikes"], to: &config)
        #expect(config.traffic == .spikes)
        try ServeOptions.traffic.apply(flag: ServeOptions.traffic.value("diurnal"), environment: [:], to: &config)
        #expect(config.traffic == .diurnal)
        #expect(throws: ServiceOptionError.self) { try ServeOptions.traffic.value("bursty") }
        #expect(ServeOptions.traffic.help.contains("one of steady, spikes, diurnal; default steady"))
    }

    @Test func spikeGapIsAPositiveNumberOfSeconds() throws {
        var config = ServiceConfig()
        #expect(config.spikeGap == 150)
        try ServeOptions.spikeGap.apply(flag: 15, environment: [:], to: &config)
        #expect(config.spikeGap == 15)
        try ServeOptions.spikeGap.apply(flag: nil, environment: ["MUSICSTREAM_SPIKE_GAP": "20"], to: &config)
        #expect(config.spikeGap == 20)
        #expect(throws: ServiceOptionError.self) {
            try ServeOptions.spikeGap.apply(flag: 0, environment: [:], to: &config)
        }
        #expect(throws: ServiceOptionError.self) {
            try ServeOptions.spikeGap.apply(flag: nil, environment: ["MUSICSTREAM_SPIKE_GAP": "soon"], to: &config)
        }
    }
}

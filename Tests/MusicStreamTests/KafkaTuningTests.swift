import KafkaClient
import Testing
@testable import MusicStream

/// The service's own librdkafka settings: where each applies, and that an operator's win.
@Suite struct KafkaTuningTests {
    let base = KafkaConfig(bootstrapServers: "127.0.0.1:9092", properties: ["security.protocol": "plaintext"])

    @Test func apiProducerAnswersWithinTheAPIPromise() {
        let api = KafkaTuning().apiProducer(base)
        #expect(api.properties["message.timeout.ms"] == "5000")
        #expect(api.properties["linger.ms"] == "0")
        #expect(api.properties["security.protocol"] == "plaintext")
        #expect(api.bootstrapServers == base.bootstrapServers)
        #expect(KafkaTuning().simulatorProducer(base).properties == base.properties)
    }

    @Test func onlyTheEmbeddedBrokerGetsTheShortFetchWait() {
        #expect(KafkaTuning().windowConsumer(base, embeddedBroker: true).properties["fetch.wait.max.ms"] == "5")
        #expect(KafkaTuning().windowConsumer(base, embeddedBroker: false).properties["fetch.wait.max.ms"] == nil)
    }

    @Test func operatorPropertiesWin() {
        let custom = KafkaConfig(bootstrapServers: "b:1", properties: ["linger.ms": "20", "fetch.wait.max.ms": "50"])
        #expect(KafkaTuning().apiProducer(custom).properties["linger.ms"] == "20")
        #expect(KafkaTuning().windowConsumer(custom, embeddedBroker: true).properties["fetch.wait.max.ms"] == "50")
    }
}

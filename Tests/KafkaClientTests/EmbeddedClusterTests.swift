import Foundation
import Synchronization
import Testing
@testable import KafkaClient

/// The real librdkafka against a real Kafka-protocol broker: the embedded mock cluster over loopback.
@Suite struct EmbeddedClusterTests {
    @Test func bootstrapAddressIsLoopback() throws {
        let cluster = try EmbeddedCluster(topics: [("t", 3)])
        #expect(cluster.bootstrapServers.hasPrefix("127.0.0.1:") || cluster.bootstrapServers.hasPrefix("localhost:"))
        let consumer = try PartitionConsumer(config: KafkaConfig(bootstrapServers: cluster.bootstrapServers), topic: "t")
        defer { consumer.close() }
        #expect(try consumer.partitionCount() == 3)
    }

    @Test func producedRecordsAreReadBackFromEveryPartitionWithKeysAndOffsets() throws {
        let cluster = try EmbeddedCluster(topics: [("listens", 3)])
        let config = KafkaConfig(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(config: config)
        // Where the broker put each record, by the record's index.
        let reports = Mutex<[Int: DeliveryReport]>([:])
        for index in 0..<30 {
            try producer.send(topic: "listens", key: Array("user-\(index % 7)".utf8), value: Array("value-\(index)".utf8)) { result in
                if case .success(let report) = result { reports.withLock { $0[index] = report } }
            }
        }
        #expect(producer.flush(timeout: .seconds(10)) == 0)
        let placed = reports.withLock { $0 }
        #expect(placed.count == 30)
        #expect(producer.deliveredCount == 30)
        #expect(producer.close(timeout: .seconds(5)) == 0)
        // Same key, same partition: the broker's view of user_id keying.
        let partitionsByKey = Dictionary(grouping: placed, by: { $0.key % 7 }).mapValues { Set($0.map(\.value.partition)) }
        #expect(partitionsByKey.values.allSatisfy { $0.count == 1 })

        let consumer = try PartitionConsumer(config: config, topic: "listens")
        defer { consumer.close() }
        try consumer.assignAll(partitions: 3, newest: 1000)
        var received: [DeliveryReport: String] = [:]
        let deadline = Date().addingTimeInterval(15)
        while received.count < 30 && Date() < deadline {
            _ = consumer.pollBorrowing(timeout: .milliseconds(200), limit: 100) { partition, offset, _, value in
                received[DeliveryReport(partition: partition, offset: offset)] = String(decoding: value, as: UTF8.self)
            }
        }
        #expect(received.count == 30)
        #expect(Set(received.keys.map(\.partition)).count > 1)
        // Each record is read back where the broker said it put it.
        for (index, report) in placed { #expect(received[report] == "value-\(index)") }
    }

    @Test func rewindStartsNearTheEndOfEachPartition() throws {
        let cluster = try EmbeddedCluster(topics: [("one", 1)])
        let config = KafkaConfig(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(config: config)
        for index in 0..<50 { try producer.send(topic: "one", key: nil, value: Array("\(index)".utf8)) }
        #expect(producer.close(timeout: .seconds(10)) == 0)
        let consumer = try PartitionConsumer(config: config, topic: "one")
        defer { consumer.close() }
        let starts = try consumer.assignAll(partitions: 1, newest: 10)
        #expect(starts == [40])
        var values: [String] = []
        let deadline = Date().addingTimeInterval(10)
        while values.count < 10 && Date() < deadline {
            _ = consumer.pollBorrowing(timeout: .milliseconds(200), limit: 100) { _, _, _, value in
                values.append(String(decoding: value, as: UTF8.self))
            }
        }
        #expect(values == (40..<50).map(String.init))
    }

    @Test func groupMembersShareTheTopic() throws {
        let cluster = try EmbeddedCluster(topics: [("grouped", 2)])
        let config = KafkaConfig(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(config: config)
        for index in 0..<20 { try producer.send(topic: "grouped", key: Array("k\(index)".utf8), value: Array("\(index)".utf8)) }
        #expect(producer.close(timeout: .seconds(10)) == 0)
        let consumer = try GroupConsumer(config: config, group: "g1", topics: ["grouped"], fromBeginning: true)
        defer { consumer.close() }
        var values = Set<String>()
        var messages: [KafkaMessage] = []
        let deadline = Date().addingTimeInterval(20)
        while values.count < 20 && Date() < deadline {
            if let message = consumer.next(timeout: .milliseconds(200)) {
                values.insert(String(decoding: message.value, as: UTF8.self))
                messages.append(message)
            }
        }
        #expect(values.count == 20)
        #expect(messages.allSatisfy { $0.timestamp != nil && $0.key != nil })
    }

    @Test func invalidSettingIsReportedByName() {
        #expect(throws: KafkaError.self) {
            _ = try KafkaProducer(config: KafkaConfig(bootstrapServers: "127.0.0.1:1", properties: ["no.such.setting": "1"]))
        }
    }

    /// The catch-up settings name a property librdkafka 2.0 does not know: they must be left out
    /// there (Debian 12's own package) and used, and accepted, from 2.2 on.
    @Test func catchUpSettingsMatchTheLinkedLibrary() throws {
        let settings = PartitionConsumer.catchUpSettings
        if Librdkafka.versionNumber >= 0x0202_0000 {
            #expect(settings["fetch.queue.backoff.ms"] == "10")
        } else {
            #expect(settings.isEmpty)
        }
        let consumer = try PartitionConsumer(config: KafkaConfig(bootstrapServers: "127.0.0.1:1"), topic: "t")
        consumer.close()
    }

    @Test func versionIsReported() {
        #expect(Librdkafka.version.split(separator: ".").count >= 3)
        #expect(Librdkafka.versionNumber > 0x0100_0000)
    }
}

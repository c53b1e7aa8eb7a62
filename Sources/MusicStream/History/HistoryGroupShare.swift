import Foundation
import History
import KafkaClient
import Logging
import Synchronization

/// The history sink's share of the topic when replicas store into one PostgreSQL: their sinks
/// form a Kafka consumer group, so each partition is written by one replica at a time, and a
/// partition given to this replica starts at the offset stored with its rows (read from the
/// store at that moment, so it continues exactly where the previous owner's last transaction
/// ended). Kafka's committed offsets are not used. Should two replicas ever write the same
/// records during a hand-over, the store's unique (timestamp, event_id) keeps one copy and its
/// offsets only move forward.
final class HistoryGroupShare: Sendable {
    let group: String
    private let store: any HistoryStore
    private let logger: Logger
    private let state = Mutex(State())
    /// Set when partitions were assigned or revoked since the reading thread last looked.
    private let changed = Atomic<Bool>(false)

    private struct State {
        /// The log the offsets are stored under (set before subscribing).
        var log = ""
        var owned: Set<Int32> = []
        /// Starts of partitions assigned, and partitions revoked, not yet taken by the reader.
        var assigned: [Int32: Int64?] = [:]
        var revoked: Set<Int32> = []
    }

    init(group: String, store: any HistoryStore, logger: Logger) {
        self.group = group
        self.store = store
        self.logger = logger
    }

    func setLog(_ log: String) { state.withLock { $0.log = log } }

    /// The partitions this replica stores now, ascending.
    var owned: [Int32] { state.withLock { $0.owned.sorted() } }

    var membership: GroupMembership {
        GroupMembership(group: group, starts: { [self] in starts(for: $0) }, revoked: { [self] in revoke($0) })
    }

    /// The reading thread's view of a rebalance: where each new partition starts (nil: at its
    /// oldest record) and which partitions went. nil when nothing changed. Cheap to ask often.
    func takeChanges() -> (assigned: [Int32: Int64?], revoked: Set<Int32>)? {
        guard changed.exchange(false, ordering: .acquiringAndReleasing) else { return nil }
        return state.withLock { state in
            defer {
                state.assigned = [:]
                state.revoked = []
            }
            return (state.assigned, state.revoked)
        }
    }

    /// The stored offsets of `partitions`, read now from the store (a few tries: a rebalance
    /// often comes with a restart of the store's clients). Partitions the store has none for
    /// start at their oldest record; so does everything when the store cannot be read, which
    /// costs re-reading, never a listen (the unique key drops the repeats).
    private func starts(for partitions: [Int32]) -> [Int32: Int64] {
        let log = state.withLock { $0.log }
        var stored: [Int32: Int64]?
        for attempt in 1...5 {
            do {
                stored = try store.openWriter().nextOffsets(topic: log)
                break
            } catch {
                logger.warning("history: cannot read the stored offsets for the group's assignment (try \(attempt) of 5): \(error)")
                if attempt < 5 { Thread.sleep(forTimeInterval: 1) }
            }
        }
        let starts = (stored ?? [:]).filter { partitions.contains($0.key) }
        state.withLock { state in
            for partition in partitions {
                state.owned.insert(partition)
                state.revoked.remove(partition)
                state.assigned[partition] = starts[partition]
            }
        }
        changed.store(true, ordering: .releasing)
        let described = partitions.sorted().map { partition in
            starts[partition].map { "\(partition)@\($0)" } ?? "\(partition)@start"
        }
        logger.info("history: group \(group) gave this replica partitions \(described.joined(separator: ", "))")
        return starts
    }

    private func revoke(_ partitions: [Int32]) {
        guard !partitions.isEmpty else { return }
        state.withLock { state in
            for partition in partitions {
                state.owned.remove(partition)
                state.assigned[partition] = nil
                state.revoked.insert(partition)
            }
        }
        changed.store(true, ordering: .releasing)
        logger.info("history: group \(group) took partitions \(partitions.sorted().map(String.init).joined(separator: ", ")) to another replica")
    }
}

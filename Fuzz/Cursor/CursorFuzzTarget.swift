// libFuzzer target: the text inside a paging cursor. A cursor is checksummed, so random tokens
// stop at the checksum (the query target covers that); this target signs the fuzzer's text
// with a valid checksum first, reaching the field parsing and the pager's use of a decoded
// cursor behind it. Built by scripts/fuzz as a SwiftPM target declared only for fuzzing.
@testable import MusicModel

/// 80 listens read from three partitions (offsets 0...26, 0...26, 0...25) of log 7, in a
/// window of 64: position `p7.q.q.p`, the first 16 evicted.
private let window: EventWindow = {
    var window = EventWindow(capacity: 64)
    window.log = 7
    for partition in 0..<3 { window.noteStart(partition: Int32(partition), offset: 0) }
    var simulator = Simulator(seed: 11)
    for i in 0..<80 {
        _ = window.append(simulator.next(timestamp: 1_700_000_000_000 + Int64(i % 20) * 1_000),
                          from: KafkaPosition(partition: Int32(i % 3), offset: Int64(i / 3)))
    }
    return window
}()

/// The token `PageCursor.encoded()` would produce for this body (everything after the checksum).
private func signed(_ body: [UInt8]) -> String {
    var hash = StableHash()
    hash.add(body)
    let digits = String(hash.finish().1, radix: 16)
    let sum = String(repeating: "0", count: 16 - digits.utf8.count) + digits
    return Base64URL.encode(Array(sum.utf8) + [UInt8(ascii: "|")] + body)
}

/// Fails loudly if PageCursor's checksum changed and `signed` no longer matches it, which
/// would quietly turn this target into one that tests only the checksum.
private let signingMatchesPageCursor: Bool = {
    let page = try? Pager.page(window, PageRequest(sortBy: .title, order: .asc, limit: 5))
    guard let token = page?.next, let bytes = Base64URL.decode(token) else { return false }
    return signed(Array(bytes.dropFirst(17))) == token
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func cursorFuzzTarget(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if !signingMatchesPageCursor { fatalError("PageCursor's checksum changed; update signed(_:)") }
    let token = signed(Array(UnsafeBufferPointer(start: data, count: size)))
    guard let cursor = PageCursor.decode(token) else { return 0 }
    if case .real(let d) = cursor.key, !d.isFinite { fatalError("a cursor decoded to a non-finite key") }
    if PageCursor.decode(cursor.encoded()) != cursor { fatalError("a decoded cursor does not re-encode") }
    // The pager takes it only for its own sort, filter and log, and only a snapshot the window
    // has read up to; then it returns at most `limit` events, none read after that snapshot.
    let filter = EventFilter()
    let request = PageRequest(filter: filter, sortBy: cursor.field, order: cursor.order, limit: 7, cursor: token)
    guard let page = try? Pager.page(window, request) else { return 0 }
    if page.events.count > 7 { fatalError("page over its limit") }
    if cursor.filterHash != filter.canonicalHash { fatalError("a cursor for another filter was taken") }
    if cursor.bound.log != window.log { fatalError("a cursor of another log was taken") }
    if !window.position.covers(cursor.bound) { fatalError("a cursor from beyond the window was taken") }
    for stored in page.events {
        guard let position = stored.position else { fatalError("a listen without its Kafka position") }
        if cursor.bound.isAfter(partition: position.partition, offset: position.offset) {
            fatalError("\(position) read after the cursor's snapshot \(cursor.bound.id)")
        }
    }
    return 0
}

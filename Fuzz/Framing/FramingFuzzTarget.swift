// libFuzzer target: the bytes of a request as they reach the server, through the scanners that
// decide framing before evhttp parses anything (RequestHeadScanner, then ChunkedBodyScanner for a
// chunked body). The first input byte picks where the bytes are split into reads; the outcome
// must not depend on it: a streaming parser that answered differently for the same bytes in
// other pieces would be a smuggling vector of its own. Built by scripts/fuzz as a SwiftPM
// target declared only for fuzzing.
@testable import EventHTTP

/// What the scanners make of `bytes` read in pieces of `step` bytes: the head's outcome, its
/// framing, the body's outcome (nil without a chunked body) and the bytes as rewritten.
private struct Reading: Equatable {
    var head: RequestHeadScanner.Outcome
    var framing: RequestHeadScanner.BodyFraming
    var headEnd: Int?
    var body: ChunkedBodyScanner.Outcome?
    var bodyEnd: Int?
    var bytes: [UInt8]
}

private func read(_ input: [UInt8], step: Int) -> Reading {
    var bytes = input
    var head = RequestHeadScanner(maxRequestLine: 512, maxHeaders: 1_024)
    var body: ChunkedBodyScanner?
    var reading = Reading(head: .incomplete, framing: .none, bytes: [])
    var start = 0
    while start < bytes.count {
        let end = min(bytes.count, start + step)
        var from = start
        if reading.headEnd == nil {
            let outcome = bytes[start..<end].withUnsafeBytes { head.scan($0) }
            reading.head = outcome
            guard case .complete(let relative) = outcome else {
                if outcome != .incomplete { break }
                start = end
                continue
            }
            let used = relative
            reading.head = .complete(bytesUsed: start + used)   // where the head ends in the input, however split
            reading.headEnd = start + used
            reading.framing = head.framing
            guard head.framing == .chunked else { break }
            body = ChunkedBodyScanner(maxTrailerBytes: 256)
            from = start + used
        }
        if var scanner = body, from < end {
            let outcome = bytes[from..<end].withUnsafeMutableBytes { scanner.scan($0) }
            body = scanner
            reading.body = outcome
            if case .complete(let used) = outcome {
                reading.body = .complete(bytesUsed: from + used)
                reading.bodyEnd = from + used
                break
            }
            if outcome != .incomplete { break }
        } else if body != nil, reading.body == nil {
            reading.body = .incomplete
        }
        start = end
    }
    if body != nil, reading.body == nil { reading.body = .incomplete }
    reading.bytes = bytes
    return reading
}

@_cdecl("LLVMFuzzerTestOneInput")
public func framingFuzzTarget(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 1 else { return 0 }
    let step = Int(data[0] % 16) + 1
    let input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let whole = read(input, step: input.count)
    let pieces = read(input, step: step)
    if whole != pieces { fatalError("the outcome depends on how the bytes were split (\(step)-byte reads)") }
    if let end = whole.headEnd {
        if end < 1 || end > input.count || input[end - 1] != UInt8(ascii: "\n") {
            fatalError("a head that does not end at a line feed")
        }
    }
    if let end = whole.bodyEnd, end > input.count { fatalError("a body that ends past the input") }
    // The only rewrite: the byte after a chunk size, ';' or a tab, becomes a space.
    for (index, (before, after)) in zip(input, whole.bytes).enumerated() where before != after {
        guard let headEnd = whole.headEnd, index >= headEnd, after == UInt8(ascii: " "),
              before == UInt8(ascii: ";") || before == UInt8(ascii: "\t")
        else { fatalError("byte \(index) was rewritten from \(before) to \(after)") }
    }
    // A refused head names a 4xx or 5xx; a complete one with a length never claims a chunked body.
    if case .refused(let refusal) = whole.head, !(400..<600).contains(refusal.status) { fatalError("refusal status \(refusal.status)") }
    if whole.framing != .chunked, whole.body != nil { fatalError("a body scanned without chunked framing") }
    return 0
}

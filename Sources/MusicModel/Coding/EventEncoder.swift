import JSON

/// Writes a `ListenEvent`'s canonical JSON straight into raw memory. Every event sent (a page of
/// `/api/events`, a stream frame) is encoded here, so this avoids the per-append bookkeeping of
/// `[UInt8]` (one bounds-free pass, then one copy). Tokens are written by `JSONRawWriter`, whose escaping `JSONWriter` shares.
enum EventEncoder {
    /// Bytes that can never be exceeded: each string byte escapes to at most 6 bytes.
    static func upperBound(_ e: ListenEvent) -> Int {
        var strings = e.eventID.utf8.count + e.userID.utf8.count + e.username.utf8.count + e.email.utf8.count
        strings += e.trackID.utf8.count + e.title.utf8.count + e.artist.utf8.count + e.genre.utf8.count
        strings += e.platform.utf8.count + e.mood.utf8.count + e.city.utf8.count + e.country.utf8.count
        return strings * 6 + 400
    }

    /// Runs `body` on the encoded bytes, held in temporary storage.
    static func withEncoded<R>(_ e: ListenEvent, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: upperBound(e)) { buffer in
            // Temporary allocations always have a base address.
            guard let base = buffer.baseAddress else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
            let count = encode(e, into: base)
            return body(UnsafeBufferPointer(start: base, count: count))
        }
    }

    /// Writes the canonical object at `out` (which has room for `upperBound(e)` bytes); returns the length.
    static func encode(_ e: ListenEvent, into out: UnsafeMutablePointer<UInt8>) -> Int {
        var p = out
        JSONRawWriter.put(&p, "{\"event_id\":"); JSONRawWriter.string(&p, e.eventID)
        JSONRawWriter.put(&p, ",\"user_id\":"); JSONRawWriter.string(&p, e.userID)
        JSONRawWriter.put(&p, ",\"username\":"); JSONRawWriter.string(&p, e.username)
        JSONRawWriter.put(&p, ",\"email\":"); JSONRawWriter.string(&p, e.email)
        JSONRawWriter.put(&p, ",\"track_id\":"); JSONRawWriter.string(&p, e.trackID)
        JSONRawWriter.put(&p, ",\"title\":"); JSONRawWriter.string(&p, e.title)
        JSONRawWriter.put(&p, ",\"artist\":"); JSONRawWriter.string(&p, e.artist)
        JSONRawWriter.put(&p, ",\"genre\":"); JSONRawWriter.string(&p, e.genre)
        JSONRawWriter.put(&p, ",\"platform\":"); JSONRawWriter.string(&p, e.platform)
        JSONRawWriter.put(&p, ",\"mood\":"); JSONRawWriter.string(&p, e.mood)
        JSONRawWriter.put(&p, ",\"city\":"); JSONRawWriter.string(&p, e.city)
        JSONRawWriter.put(&p, ",\"country\":"); JSONRawWriter.string(&p, e.country)
        JSONRawWriter.put(&p, ",\"duration\":"); JSONRawWriter.integer(&p, Int64(e.duration))
        JSONRawWriter.put(&p, ",\"listen_position\":"); JSONRawWriter.integer(&p, Int64(e.listenPosition))
        if e.completed {
            JSONRawWriter.put(&p, ",\"completed\":true,\"skipped\":false,\"rating\":")
        } else {
            JSONRawWriter.put(&p, ",\"completed\":false,\"skipped\":true,\"rating\":")
        }
        JSONRawWriter.integer(&p, Int64(e.rating))
        JSONRawWriter.put(&p, ",\"timestamp\":"); JSONRawWriter.integer(&p, e.timestamp)
        p.pointee = UInt8(ascii: "}")
        p += 1
        return p - out
    }
}

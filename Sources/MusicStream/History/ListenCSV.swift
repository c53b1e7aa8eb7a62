import MusicModel

/// Listens as CSV (RFC 4180): a header row, then one row per listen, fields in the canonical
/// JSON order with `completed` and `skipped` spelled true/false. Values are written as they
/// are (a data engineer's export, not a spreadsheet's): a field with a comma, a quote or a
/// line break is quoted, quotes doubled. Lines end with CRLF as the RFC says.
enum ListenCSV {
    static let header = "event_id,user_id,username,email,track_id,title,artist,genre,platform,mood,city,country,"
        + "duration,listen_position,completed,skipped,rating,timestamp\r\n"

    static func append(_ event: ListenEvent, to out: inout [UInt8]) {
        for text in [event.eventID, event.userID, event.username, event.email, event.trackID, event.title,
                     event.artist, event.genre, event.platform, event.mood, event.city, event.country] {
            field(text, to: &out)
            out.append(UInt8(ascii: ","))
        }
        let completed = event.completed
        out.append(contentsOf: "\(event.duration),\(event.listenPosition),\(completed),\(!completed),\(event.rating),\(event.timestamp)\r\n".utf8)
    }

    private static func field(_ text: String, to out: inout [UInt8]) {
        let bytes = text.utf8
        guard bytes.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }) else {
            out.append(contentsOf: bytes)
            return
        }
        out.append(UInt8(ascii: "\""))
        for b in bytes {
            if b == UInt8(ascii: "\"") { out.append(b) }
            out.append(b)
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// Text as a dictionary key by its exact bytes. Swift's `String` equality (and hash) follow
/// canonical equivalence: "Café" with a precomposed é equals "Cafe" + U+0301. A store keeps
/// what it was given byte for byte, so the values it tells apart must stay apart in Swift too.
struct ExactText: Hashable {
    let text: String

    init(_ text: String) { self.text = text }

    static func == (a: ExactText, b: ExactText) -> Bool {
        a.text.utf8.count == b.text.utf8.count && a.text.utf8.elementsEqual(b.text.utf8)
    }

    func hash(into hasher: inout Hasher) {
        var text = self.text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Text as a dictionary key by its exact bytes. Swift's `String` equality (and hash) follow
/// canonical equivalence: "Café" with a precomposed é equals "Cafe" + U+0301. A store keeps
/// what it was given byte for byte, so the values it tells apart must stay apart in Swift too.
struct ExactText: Hashable {
    let text: String

    init(_ text: String) { self.text = text }

    /// Over the contiguous bytes: `utf8.elementsEqual` iterates generically, which showed as 9 %
    /// of the history writer's time (a lookup per text field per listen).
    static func == (a: ExactText, b: ExactText) -> Bool {
        var a = a.text, b = b.text
        return a.withUTF8 { x in
            b.withUTF8 { y in
                x.count == y.count && (x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0)
            }
        }
    }

    func hash(into hasher: inout Hasher) {
        var text = self.text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

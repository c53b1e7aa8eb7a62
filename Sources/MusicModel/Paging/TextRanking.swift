/// A text sort field's values put in order once for one page, so that the page's scan orders
/// events by an integer per value id instead of comparing their strings.
///
/// Why: a scan compares each matching event's key with the worst of the best `limit` so far,
/// and `String.order` (case folding, then bytes) costs several times an integer comparison:
/// sorting a million-listen window by title took 15-19 ms against 7 for a number field. The
/// window's tables hold each distinct value once, so when they are few against the events
/// scanned, ranking them first is the cheaper way (`pays`).
///
/// Ranks are even for held values (twice their place among the distinct values, ascending) and
/// odd for text between two of them, which is where a cursor's key lands once the events that
/// carried it were evicted; so a cursor carries the text, never a rank, and a walk continues on
/// another replica, whose tables rank differently.
struct TextRanking {
    /// By value id (the table's ids, freed ones included): the value's rank.
    let rankByID: [Int64]
    /// The distinct values, ascending by `String.order`.
    private let ascending: [String]

    init(_ values: [String]) {
        let ids = values.indices.sorted { String.order(values[$0], values[$1]) < 0 }
        var rankByID = [Int64](repeating: 0, count: values.count)
        var ascending: [String] = []
        ascending.reserveCapacity(values.count)
        for id in ids {
            // Equal only when the bytes are (a freed id's "" beside a held ""): one rank.
            if let last = ascending.last, String.order(last, values[id]) == 0 {
                rankByID[id] = Int64(ascending.count - 1) * 2
                continue
            }
            ascending.append(values[id])
            rankByID[id] = Int64(ascending.count - 1) * 2
        }
        self.rankByID = rankByID
        self.ascending = ascending
    }

    /// Whether ranking `distinct` values (about distinct x log2(distinct) string comparisons)
    /// costs less than comparing strings while scanning `scanned` events.
    static func pays(distinct: Int, scanned: Int) -> Bool {
        let log2 = max(1, Int.bitWidth - distinct.leadingZeroBitCount)
        return distinct * log2 <= scanned
    }

    /// The rank of `text`: its own when it is one of the values, else the odd rank between the
    /// values before and after it.
    func rank(of text: String) -> Int64 {
        var low = 0
        var high = ascending.count
        while low < high {
            let middle = (low + high) / 2
            if String.order(ascending[middle], text) < 0 { low = middle + 1 } else { high = middle }
        }
        if low < ascending.count, String.order(ascending[low], text) == 0 { return Int64(low) * 2 }
        return Int64(low) * 2 - 1
    }

    /// The value of an even rank (every rank read from an event is one).
    func text(ofRank rank: Int64) -> String {
        ascending[Int(rank / 2)]
    }
}

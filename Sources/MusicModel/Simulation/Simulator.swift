/// Deterministic listen-event generator: the same seed gives the same sequence of events
/// (timestamps are the caller's), so demos and benchmarks are reproducible.
public struct Simulator: Sendable {
    private struct User: Sendable {
        let id: String
        let username: String
        let email: String
        let home: Int
    }

    /// Size of the simulated user pool; user ids repeat across events like real traffic.
    public static let userCount = 500

    private var rng: SplitMix64
    private let users: [User]
    private let trackIDs: [String]

    // Cumulative weights: Spotify dominates, moods lean positive/chill.
    private static let platformWeights = cumulative([45, 22, 16, 7, 10])
    private static let moodWeights = cumulative([14, 13, 11, 8, 9, 8, 7, 6, 5, 5, 4, 4, 4, 4, 3, 2, 2, 1])
    // Completed listens rate higher than skips; 0 means "not rated".
    private static let completedRatingWeights = cumulative([4, 2, 5, 16, 36, 37])
    private static let skippedRatingWeights = cumulative([30, 22, 20, 14, 9, 5])
    private static let emailDomains = ["example.com", "example.org", "example.net"]

    public init(seed: UInt64) {
        var setup = SplitMix64(seed: seed ^ 0x5EED_0F_0005E125)
        var users: [User] = []
        users.reserveCapacity(Self.userCount)
        var taken: Set<String> = []
        while users.count < Self.userCount {
            let first = Catalogue.firstNames[setup.below(Catalogue.firstNames.count)].lowercased()
            let last = Catalogue.lastNames[setup.below(Catalogue.lastNames.count)].lowercased()
            let username = first + "." + last + String(1 + setup.below(99))
            guard taken.insert(username).inserted else { continue }
            let domain = Self.emailDomains[setup.below(Self.emailDomains.count)]
            users.append(User(
                id: UUIDText.string((setup.next(), setup.next()), version: 4),
                username: username,
                email: username + "@" + domain,
                home: setup.below(Catalogue.places.count)))
        }
        self.users = users
        self.trackIDs = Catalogue.songs.map { Self.trackID(title: $0.title, artist: $0.artist) }
        self.rng = SplitMix64(seed: seed)
    }

    /// Stable track id for a song: the same title and artist always give the same UUID.
    public static func trackID(title: String, artist: String) -> String {
        var hash = StableHash()
        hash.add(title)
        hash.add(artist)
        return UUIDText.string(hash.finish(), version: 8)
    }

    public mutating func next(timestamp: Int64) -> ListenEvent {
        let user = users[skewed(users.count)]
        let songIndex = skewed(Catalogue.songs.count)
        let song = Catalogue.songs[songIndex]
        let place = rng.unit() < 0.85 ? Catalogue.places[user.home] : Catalogue.places[rng.below(Catalogue.places.count)]
        let platform = Catalogue.platforms[pick(Self.platformWeights)]
        let mood = Catalogue.moods[pick(Self.moodWeights)]

        let duration = song.duration
        let position: Int
        let completed = rng.unit() < 0.6
        if completed {
            // Most completed listens run to the end; the rest stop in the last fifth.
            let threshold = (4 * duration + 4) / 5  // smallest p with 5p >= 4d
            position = rng.unit() < 0.7 ? duration : threshold + rng.below(duration - threshold + 1)
        } else {
            // Skips cluster early in the track.
            let lastSkip = (4 * duration - 1) / 5
            let u = rng.unit()
            position = min(lastSkip, Int(u * u * Double(lastSkip + 1)))
        }
        let rating = pick(completed ? Self.completedRatingWeights : Self.skippedRatingWeights)

        return ListenEvent(
            eventID: UUIDText.string((rng.next(), rng.next()), version: 4),
            userID: user.id, username: user.username, email: user.email,
            trackID: trackIDs[songIndex], title: song.title, artist: song.artist, genre: song.genre,
            platform: platform, mood: mood, city: place.city, country: place.country,
            duration: duration, listenPosition: position, rating: rating, timestamp: timestamp)
    }

    /// Half the picks uniform, half favouring low indices: some users and songs are hot.
    private mutating func skewed(_ count: Int) -> Int {
        let u = rng.unit()
        if u < 0.5 { return rng.below(count) }
        let v = rng.unit()
        return min(count - 1, Int(v * v * Double(count)))
    }

    private mutating func pick(_ cumulative: [Int]) -> Int {
        let r = rng.below(cumulative[cumulative.count - 1])
        var i = 0
        while cumulative[i] <= r { i += 1 }
        return i
    }

    private static func cumulative(_ weights: [Int]) -> [Int] {
        var total = 0
        return weights.map { w in
            total += w
            return total
        }
    }
}

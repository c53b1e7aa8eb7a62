/// Real songs, platforms, moods, places and name parts for the simulator, so the dashboard
/// looks like real listening rather than "Song 17 by Artist 4".
public enum Catalogue {
    public struct Song: Sendable {
        public let title: String
        public let artist: String
        public let genre: String
        /// Seconds.
        public let duration: Int

        public init(title: String, artist: String, genre: String, duration: Int) {
            self.title = title
            self.artist = artist
            self.genre = genre
            self.duration = duration
        }
    }

    public struct Place: Sendable {
        public let city: String
        public let country: String

        public init(city: String, country: String) {
            self.city = city
            self.country = country
        }
    }

    private static func song(_ title: String, _ artist: String, _ genre: String, _ duration: Int) -> Song {
        Song(title: title, artist: artist, genre: genre, duration: duration)
    }

    public static let songs: [Song] = [
        // Pop
        song("Blinding Lights", "The Weeknd", "Pop", 200),
        song("Shape of You", "Ed Sheeran", "Pop", 234),
        song("Levitating", "Dua Lipa", "Pop", 203),
        song("As It Was", "Harry Styles", "Pop", 167),
        song("Bad Guy", "Billie Eilish", "Pop", 194),
        song("Anti-Hero", "Taylor Swift", "Pop", 200),
        song("Flowers", "Miley Cyrus", "Pop", 200),
        song("drivers license", "Olivia Rodrigo", "Pop", 242),
        song("Rolling in the Deep", "Adele", "Pop", 228),
        song("Someone Like You", "Adele", "Pop", 285),
        song("Espresso", "Sabrina Carpenter", "Pop", 175),
        // Rock
        song("Bohemian Rhapsody", "Queen", "Rock", 354),
        song("Hotel California", "Eagles", "Rock", 391),
        song("Smells Like Teen Spirit", "Nirvana", "Rock", 301),
        song("Sweet Child O' Mine", "Guns N' Roses", "Rock", 356),
        song("Stairway to Heaven", "Led Zeppelin", "Rock", 482),
        song("Mr. Brightside", "The Killers", "Rock", 222),
        song("Seven Nation Army", "The White Stripes", "Rock", 232),
        song("Back in Black", "AC/DC", "Rock", 255),
        song("Wonderwall", "Oasis", "Rock", 258),
        // Hip Hop
        song("HUMBLE.", "Kendrick Lamar", "Hip Hop", 177),
        song("God's Plan", "Drake", "Hip Hop", 199),
        song("SICKO MODE", "Travis Scott", "Hip Hop", 312),
        song("Lose Yourself", "Eminem", "Hip Hop", 326),
        song("Juicy", "The Notorious B.I.G.", "Hip Hop", 302),
        song("Stronger", "Kanye West", "Hip Hop", 311),
        song("Old Town Road", "Lil Nas X", "Hip Hop", 157),
        // EDM
        song("Levels", "Avicii", "EDM", 199),
        song("Wake Me Up", "Avicii", "EDM", 247),
        song("Titanium", "David Guetta", "EDM", 245),
        song("Animals", "Martin Garrix", "EDM", 303),
        song("Clarity", "Zedd", "EDM", 271),
        song("Strobe", "deadmau5", "EDM", 637),
        song("One More Time", "Daft Punk", "EDM", 320),
        song("Don't You Worry Child", "Swedish House Mafia", "EDM", 212),
        // K-pop
        song("Dynamite", "BTS", "K-pop", 199),
        song("Butter", "BTS", "K-pop", 164),
        song("How You Like That", "BLACKPINK", "K-pop", 181),
        song("Gangnam Style", "PSY", "K-pop", 219),
        song("Super Shy", "NewJeans", "K-pop", 154),
        song("Love Dive", "IVE", "K-pop", 177),
        song("God's Menu", "Stray Kids", "K-pop", 168),
        // Jazz
        song("So What", "Miles Davis", "Jazz", 562),
        song("Take Five", "The Dave Brubeck Quartet", "Jazz", 324),
        song("My Favorite Things", "John Coltrane", "Jazz", 823),
        song("Feeling Good", "Nina Simone", "Jazz", 177),
        song("What a Wonderful World", "Louis Armstrong", "Jazz", 139),
        song("Fly Me to the Moon", "Frank Sinatra", "Jazz", 148),
        // R&B
        song("No Scrubs", "TLC", "R&B", 214),
        song("Crazy in Love", "Beyoncé", "R&B", 236),
        song("Kill Bill", "SZA", "R&B", 153),
        song("Adorn", "Miguel", "R&B", 193),
        song("Thinkin Bout You", "Frank Ocean", "R&B", 200),
        song("Redbone", "Childish Gambino", "R&B", 327),
        // Latin
        song("Despacito", "Luis Fonsi", "Latin", 229),
        song("Tití Me Preguntó", "Bad Bunny", "Latin", 243),
        song("Hips Don't Lie", "Shakira", "Latin", 218),
        song("Bailando", "Enrique Iglesias", "Latin", 243),
        song("Mi Gente", "J Balvin", "Latin", 189),
        song("La Bachata", "Manuel Turizo", "Latin", 162),
        song("Con Calma", "Daddy Yankee", "Latin", 193),
        // Indie
        song("Glimpse of Us", "Joji", "Indie", 233),
        song("Do I Wanna Know?", "Arctic Monkeys", "Indie", 272),
        song("Take Me Out", "Franz Ferdinand", "Indie", 237),
        song("Electric Feel", "MGMT", "Indie", 229),
        song("The Less I Know the Better", "Tame Impala", "Indie", 216),
        song("Skinny Love", "Bon Iver", "Indie", 238),
        song("Space Song", "Beach House", "Indie", 320),
        // Classical
        song("Clair de Lune", "Claude Debussy", "Classical", 300),
        song("Für Elise", "Ludwig van Beethoven", "Classical", 175),
        song("Canon in D", "Johann Pachelbel", "Classical", 330),
        song("The Four Seasons: Spring", "Antonio Vivaldi", "Classical", 200),
        song("Gymnopédie No. 1", "Erik Satie", "Classical", 205),
        song("Nocturne Op. 9 No. 2", "Frédéric Chopin", "Classical", 270),
        // Country
        song("Jolene", "Dolly Parton", "Country", 162),
        song("Tennessee Whiskey", "Chris Stapleton", "Country", 293),
        song("Take Me Home, Country Roads", "John Denver", "Country", 190),
        // Afrobeats
        song("Essence", "Wizkid", "Afrobeats", 249),
        song("Calm Down", "Rema", "Afrobeats", 239),
        song("Last Last", "Burna Boy", "Afrobeats", 172),
        // Reggae
        song("Three Little Birds", "Bob Marley & The Wailers", "Reggae", 180),
        song("Could You Be Loved", "Bob Marley & The Wailers", "Reggae", 237),
        // Metal
        song("Enter Sandman", "Metallica", "Metal", 331),
        song("Chop Suey!", "System of a Down", "Metal", 210),
        // Funk
        song("Uptown Funk", "Mark Ronson", "Funk", 270),
    ]

    /// Exactly these five, most common first.
    public static let platforms: [String] = ["Spotify", "Apple Music", "YouTube Music", "SoundCloud", "Amazon Music"]

    public static let moods: [String] = [
        "Happy", "Chill", "Energetic", "Melancholic", "Relaxed", "Focused", "Romantic", "Nostalgic",
        "Sad", "Hopeful", "Euphoric", "Dreamy", "Confident", "Motivated", "Peaceful", "Lonely",
        "Anxious", "Angry",
    ]

    private static func places(_ country: String, _ cities: String...) -> [Place] {
        cities.map { Place(city: $0, country: country) }
    }

    public static let places: [Place] = [
        places("United States", "New York", "Los Angeles", "Chicago"),
        places("Canada", "Toronto", "Vancouver", "Montreal"),
        places("Mexico", "Mexico City", "Guadalajara"),
        places("Brazil", "São Paulo", "Rio de Janeiro"),
        places("Argentina", "Buenos Aires", "Córdoba"),
        places("Chile", "Santiago"),
        places("Colombia", "Bogotá", "Medellín"),
        places("Peru", "Lima"),
        places("United Kingdom", "London", "Manchester", "Glasgow"),
        places("Ireland", "Dublin"),
        places("France", "Paris", "Lyon", "Marseille"),
        places("Germany", "Berlin", "Munich", "Hamburg"),
        places("Spain", "Madrid", "Barcelona", "Seville"),
        places("Portugal", "Lisbon", "Porto"),
        places("Italy", "Rome", "Milan", "Naples"),
        places("Netherlands", "Amsterdam", "Rotterdam"),
        places("Belgium", "Brussels", "Antwerp"),
        places("Switzerland", "Zurich", "Geneva"),
        places("Austria", "Vienna"),
        places("Sweden", "Stockholm", "Gothenburg"),
        places("Norway", "Oslo", "Bergen"),
        places("Denmark", "Copenhagen"),
        places("Finland", "Helsinki"),
        places("Poland", "Warsaw", "Kraków"),
        places("Czech Republic", "Prague"),
        places("Greece", "Athens"),
        places("Turkey", "Istanbul", "Ankara"),
        places("Ukraine", "Kyiv"),
        places("Egypt", "Cairo"),
        places("Morocco", "Casablanca", "Marrakesh"),
        places("Nigeria", "Lagos", "Abuja"),
        places("Kenya", "Nairobi"),
        places("South Africa", "Johannesburg", "Cape Town"),
        places("Israel", "Tel Aviv"),
        places("Saudi Arabia", "Riyadh"),
        places("United Arab Emirates", "Dubai"),
        places("India", "Mumbai", "Delhi", "Bengaluru"),
        places("Pakistan", "Karachi", "Lahore"),
        places("China", "Shanghai", "Beijing"),
        places("Japan", "Tokyo", "Osaka", "Kyoto"),
        places("South Korea", "Seoul", "Busan"),
        places("Taiwan", "Taipei"),
        places("Philippines", "Manila"),
        places("Indonesia", "Jakarta"),
        places("Thailand", "Bangkok"),
        places("Vietnam", "Ho Chi Minh City", "Hanoi"),
        places("Singapore", "Singapore"),
        places("Malaysia", "Kuala Lumpur"),
        places("Australia", "Sydney", "Melbourne"),
        places("New Zealand", "Auckland"),
    ].flatMap { $0 }

    /// ASCII only, so usernames and emails need no transliteration.
    public static let firstNames: [String] = [
        "Maya", "Liam", "Sofia", "Noah", "Aisha", "Kenji", "Elena", "Mateo", "Priya", "Lucas",
        "Hana", "Omar", "Chloe", "Diego", "Amara", "Jonas", "Mei", "Ravi", "Zoe", "Ivan",
        "Leila", "Felix", "Yuki", "Carlos", "Nadia", "Theo", "Ama", "Sven", "Lina", "Tariq",
        "Isla", "Marco", "Ana", "Kofi", "Emma", "Jin", "Sara", "Hugo", "Nia", "Arjun",
    ]

    public static let lastNames: [String] = [
        "Tanaka", "Smith", "Garcia", "Kim", "Okafor", "Muller", "Rossi", "Silva", "Patel", "Nguyen",
        "Johansson", "Dubois", "Kowalski", "Haddad", "Chen", "Moreau", "Ivanova", "Mensah", "Lopez", "Sato",
        "Jensen", "Costa", "Ali", "Brown", "Novak", "Fischer", "Yilmaz", "Das", "Park", "Wilson",
        "Martin", "Reyes", "Khan", "Murphy", "Bauer", "Santos", "Lee", "Adeyemi", "Larsen", "Romero",
    ]
}

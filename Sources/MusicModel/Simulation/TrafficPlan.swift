#if canImport(Glibc)
import Glibc   // cos, sin
#elseif canImport(Darwin)
import Darwin
#endif

/// How the simulator's pace changes over time, so the page, the charts and the benchmarks can be
/// watched under the load real services see (the original project's "simulate spikes in traffic"):
/// steady, spikes (bursts of `burstFactor` times the rate for `burstSeconds`, at random gaps), or
/// diurnal (a day's curve compressed into `dayLength` seconds). Pure: the same seed gives the
/// same bursts.
public struct TrafficPlan: Sendable {
    public enum Shape: String, CaseIterable, Sendable, Comparable {
        case steady, spikes, diurnal

        public static func < (lhs: Shape, rhs: Shape) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    public static let burstFactor = 10.0
    public static let burstSeconds = 30.0
    /// The quiet time before each burst is drawn uniformly from this share of `burstGap` (with
    /// the default 150 s: one to four minutes).
    public static let gapSpread = 0.4...1.6
    public static let defaultBurstGap = 150.0
    /// One simulated day, in real seconds: night at 0.2 times the rate, the afternoon peak at 1.8.
    public static let dayLength = 600.0
    static let diurnalSwing = 0.8

    public let shape: Shape
    /// Listens per second on average over quiet time (steady, spikes) or over a whole day (diurnal).
    public let rate: Double
    public let seed: UInt64
    /// Mean quiet time between bursts, in seconds (spikes only).
    public let burstGap: Double

    public init(shape: Shape, rate: Double, seed: UInt64, burstGap: Double = defaultBurstGap) {
        self.shape = shape
        self.rate = rate
        self.seed = seed
        self.burstGap = burstGap
    }

    /// The range each quiet time before a burst is drawn from.
    public var burstGaps: ClosedRange<Double> {
        (Self.gapSpread.lowerBound * burstGap)...(Self.gapSpread.upperBound * burstGap)
    }

    /// The pace `seconds` after the start, in listens per second.
    public func rate(at seconds: Double) -> Double {
        switch shape {
        case .steady: rate
        case .spikes: rate * (burst(containing: seconds) ? Self.burstFactor : 1)
        case .diurnal: rate * (1 - Self.diurnalSwing * cos(2 * .pi * seconds / Self.dayLength))
        }
    }

    /// How many listens are due by `seconds` after the start: the integral of `rate(at:)`.
    /// The runner produces up to this count, so its pace follows the plan at any rate.
    public func expectedEvents(by seconds: Double) -> Double {
        switch shape {
        case .steady:
            return rate * seconds
        case .spikes:
            var bursting = 0.0
            for burst in bursts(until: seconds) {
                bursting += max(0, min(seconds, burst.upperBound) - burst.lowerBound)
            }
            return rate * (seconds + (Self.burstFactor - 1) * bursting)
        case .diurnal:
            let period = Self.dayLength
            return rate * (seconds - Self.diurnalSwing * period / (2 * .pi) * sin(2 * .pi * seconds / period))
        }
    }

    /// The bursts that start before `seconds`, in order.
    public func bursts(until seconds: Double) -> [ClosedRange<Double>] {
        var generator = SplitMix64(seed: seed ^ 0x7472_6166_6669_6321)
        var result: [ClosedRange<Double>] = []
        var start = 0.0
        while true {
            let unit = Double(generator.next() >> 11) / Double(1 << 53)
            start += burstGaps.lowerBound + unit * (burstGaps.upperBound - burstGaps.lowerBound)
            guard start < seconds else { return result }
            result.append(start...(start + Self.burstSeconds))
            start += Self.burstSeconds
        }
    }

    private func burst(containing seconds: Double) -> Bool {
        bursts(until: seconds).last.map { $0.contains(seconds) } ?? false
    }
}

@testable import MusicStream
import Testing

@Suite struct ExposureWarningTests {
    @Test func loopbackAddressesAreRecognised() {
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "[::1]"] {
            #expect(ServiceConfig.isLoopback(host), "\(host)")
        }
        for host in ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "example.com", "127.0.0", "127.0.0.1.5", "128.0.0.1", "127.0.0.256"] {
            #expect(!ServiceConfig.isLoopback(host), "\(host)")
        }
    }

    @Test func warnsOnlyForAPublicAddressWithoutToken() {
        var config = ServiceConfig()
        #expect(config.host == "127.0.0.1")
        #expect(config.exposureWarning == nil)
        config.host = "0.0.0.0"
        #expect(config.exposureWarning?.contains("without a write token") == true)
        config.writeToken = "secret"
        #expect(config.exposureWarning == nil)
    }
}

import EventHTTP
import MusicAPI

/// `GET /stream`: a `text/event-stream` of matching events as they arrive, after replaying what
/// the client missed (see `SSEHub.open`).
struct StreamEndpoint {
    let live: LiveWindow

    func open(_ request: HTTPRequest) throws(ProblemDetails) -> RouteResult {
        let subscription = try StreamRequest(request)
        let live = self.live
        return .stream(
            status: 200,
            headers: [
                (name: "Content-Type", value: "text/event-stream; charset=utf-8"),
                (name: "Cache-Control", value: "no-cache"),
                (name: "X-Accel-Buffering", value: "no"),
            ],
            start: { stream in
                live.hub.open(stream, for: subscription, window: live.window, at: live.knownPosition)
            })
    }
}

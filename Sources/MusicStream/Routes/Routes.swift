import EventHTTP

/// Every route the server answers, in one table; add a route here and its handler beside the
/// others of its kind. Handlers run on the loop thread, which owns the window, and throw a
/// `ProblemDetails` for a bad request.
struct Routes {
    let read: ReadEndpoints
    let status: StatusEndpoints
    let stream: StreamEndpoint
    let publisher: EventPublisher
    let history: HistoryEndpoints
    let site: StaticSite

    func register(on router: Router) {
        router.get("/healthz") { request throws(ProblemDetails) in try status.health(request) }
        router.get("/readyz") { request throws(ProblemDetails) in try status.readiness(request) }
        router.get("/api/status") { request throws(ProblemDetails) in try status.status(request) }
        router.get("/metrics") { request throws(ProblemDetails) in try status.metrics(request) }
        router.get("/api/events") { request throws(ProblemDetails) in try read.events(request) }
        router.post("/api/events") { request in publisher.handle(request) }
        router.get("/api/events/{event_id}") { request throws(ProblemDetails) in try read.event(request) }
        router.get("/api/facets") { request throws(ProblemDetails) in try read.facets(request) }
        router.get("/api/timeline") { request throws(ProblemDetails) in try read.timeline(request) }
        router.get("/api/users/{user_id}") { request throws(ProblemDetails) in try history.userSummary(request) }
        router.get("/api/users/{user_id}/listens") { request throws(ProblemDetails) in try history.userListens(request) }
        router.get("/api/export") { request throws(ProblemDetails) in try history.export(request) }
        router.get("/stream") { request throws(ProblemDetails) in try stream.open(request) }
        router.get("/openapi.yaml") { request throws(ProblemDetails) in try site.openAPIDescription(request) }
        router.fallback = { request in site.file(request) }
    }
}

/// The methods the server accepts; anything else evhttp answers with 501 itself. TRACE and
/// CONNECT are accepted only so the router can answer them with a proper 405.
public enum HTTPMethod: String, Sendable, CaseIterable {
    case GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH, TRACE, CONNECT
}

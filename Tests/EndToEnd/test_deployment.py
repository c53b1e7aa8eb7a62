"""Static checks of the deployment files (Dockerfile, docker-compose.yml, deploy/nginx.conf.template).

No Docker engine runs where the suite runs, so the images are never built or started here. What can
be checked without one is checked: the compose file's structure, pinned images, ports and start
order, the Dockerfile's stages and runtime hardening, and that every command line and MUSICSTREAM_*
variable the files use is one the real binary accepts. The history store too: the compose file's
PostgreSQL and the server's URL for it, the image's data directory for the default SQLite file, and
the runtime libraries the binary links. The replicas: the server scaled behind an nginx service
that runs the project's one nginx template, whose SSE and failover settings are checked here, and
which Debian's nginx accepts (`nginx -t`) filled with a loopback upstream, as the tests and the
benchmark fill it.
"""
import os
import re
import shutil
import subprocess
import urllib.parse

import pytest
import yaml

from conftest import BINARY

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
COMPOSE_PATH = os.path.join(ROOT, "docker-compose.yml")
DOCKERFILE_PATH = os.path.join(ROOT, "Dockerfile")
DOCKERIGNORE_PATH = os.path.join(ROOT, ".dockerignore")
README_PATH = os.path.join(ROOT, "README.md")
DEPLOYMENT_PATH = os.path.join(ROOT, "docs", "DEPLOYMENT.md")
NGINX_TEMPLATE_PATH = os.path.join(ROOT, "deploy", "nginx.conf.template")
HARNESS_PATH = os.path.join(ROOT, "bench", "harness.py")
SETUP_PATH = os.path.join(ROOT, "scripts", "setup")

INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-?+])([^}]*))?\}")


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def resolve(value, env):
    """What compose makes of ${VAR}, ${VAR:-default} and ${VAR-default} with `env` as the
    environment (empty counts as unset for :-, which is all the compose file uses)."""
    def substitute(match):
        name, operator, default = match.groups()
        if env.get(name):
            return env[name]
        return default or "" if operator == "-" else ""
    return INTERPOLATION.sub(substitute, str(value))


def resolve_defaults(value):
    """What compose makes of ${VAR:-default} with nothing set in the environment."""
    return resolve(value, {})


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(read(COMPOSE_PATH))


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


@pytest.fixture(scope="module")
def dockerfile():
    # Comments dropped, continuation lines joined: each instruction is one line.
    text = "\n".join(line for line in read(DOCKERFILE_PATH).splitlines() if not line.lstrip().startswith("#"))
    return re.sub(r"\\\n", " ", text)


def instructions(dockerfile, keyword):
    return [line.strip()[len(keyword):].strip() for line in dockerfile.splitlines()
            if line.strip().upper().startswith(keyword + " ")]


def help_text(subcommand):
    result = subprocess.run([BINARY, subcommand, "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


def as_list(command):
    if isinstance(command, str):
        return command.split()
    return [str(part) for part in command]


def environment(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return env


# --- compose ------------------------------------------------------------------------------------

def test_compose_has_the_expected_services(services):
    assert {"kafka", "topic-init", "postgres", "server", "simulator", "nginx"} <= set(services)


def test_every_image_is_pinned_to_an_exact_version(compose, services):
    images = {name: resolve_defaults(service["image"]) for name, service in services.items() if "image" in service}
    assert images, "no image: entries at all"
    for name, image in images.items():
        if "build" in services[name]:
            continue  # built here from the Dockerfile; its name is a local tag
        assert ":" in image.rsplit("/", 1)[-1], f"{name}: {image} has no tag"
        tag = image.rsplit(":", 1)[1]
        assert tag != "latest", f"{name}: {image} is not pinned"
        # PostgreSQL's versions have two parts since 10 (major.minor): 15.17 is exact.
        exact = r"\d+\.\d+([-.][\w.]+)?" if image.startswith("postgres:") else r"\d+\.\d+\.\d+([-.][\w.]+)?"
        assert re.fullmatch(exact, tag), f"{name}: {image} is not an exact version"
    assert images["kafka"].startswith("apache/kafka:")
    assert images["topic-init"] == images["kafka"], "topic-init must use the broker's image and tools"


def test_server_and_simulator_are_built_from_this_repository(services):
    for name in ("server", "simulator"):
        build = services[name]["build"]
        context = build if isinstance(build, str) else build.get("context", ".")
        assert os.path.abspath(os.path.join(ROOT, context)) == ROOT
        dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        assert os.path.isfile(os.path.join(ROOT, dockerfile))
    assert services["server"]["image"] == services["simulator"]["image"], "one image for both"


def test_nginx_publishes_port_5000_and_the_replicas_publish_nothing(services):
    ports = [resolve_defaults(port) for port in services["nginx"]["ports"]]
    assert ports == ["127.0.0.1:5000:5000"], ports
    overridden = {"PUBLISH_ADDRESS": "0.0.0.0", "PUBLISH_PORT": "8080"}
    assert [resolve(port, overridden) for port in services["nginx"]["ports"]] == ["0.0.0.0:8080:5000"]
    # A host port on a scaled service collides from the second replica on.
    assert "ports" not in services["server"], "replicas cannot share a host port: nginx publishes it"
    assert [str(port) for port in services["server"].get("expose", [])] == ["5000"]


def test_start_order_waits_for_a_healthy_broker_and_the_topic(services):
    assert services["topic-init"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    for name in ("server", "simulator"):
        assert services[name]["depends_on"]["topic-init"]["condition"] == "service_completed_successfully"
    assert services["nginx"]["depends_on"]["server"]["condition"] == "service_healthy"
    for name in ("kafka", "server", "nginx"):
        test = services[name]["healthcheck"]["test"]
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name}: {test}"
    assert "kafka-broker-api-versions.sh" in " ".join(services["kafka"]["healthcheck"]["test"])
    assert any("/readyz" in part or "/healthz" in part for part in services["server"]["healthcheck"]["test"])


def test_kafka_is_a_single_node_kraft_combined_broker_and_controller(services):
    env = {key: resolve_defaults(value) for key, value in environment(services["kafka"]).items()}
    assert env["KAFKA_PROCESS_ROLES"].replace(" ", "") in ("broker,controller", "controller,broker")
    node_id = env["KAFKA_NODE_ID"]
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{node_id}@kafka:9093"
    listeners = env["KAFKA_LISTENERS"].split(",")
    assert "PLAINTEXT://:9092" in listeners and "CONTROLLER://:9093" in listeners
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    protocol_map = dict(entry.split(":") for entry in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    for listener in env["KAFKA_LISTENERS"].split(","):
        assert listener.split("://")[0] in protocol_map, f"{listener} has no security protocol"
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] == "PLAINTEXT"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "1"
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", env["CLUSTER_ID"]), "CLUSTER_ID must be a base64 UUID"


def test_topic_init_creates_the_topic_the_server_reads(services):
    command = [resolve_defaults(part) for part in as_list(services["topic-init"]["command"])]
    assert command[0].endswith("kafka-topics.sh")
    assert "--create" in command and "--if-not-exists" in command
    assert command[command.index("--bootstrap-server") + 1] == "kafka:9092"
    assert command[command.index("--partitions") + 1] == "3"
    assert command[command.index("--replication-factor") + 1] == "1"
    topic = command[command.index("--topic") + 1]
    assert topic == "music-streams"
    assert resolve_defaults(environment(services["server"])["MUSICSTREAM_TOPIC"]) == topic
    assert resolve_defaults(environment(services["simulator"]).get("MUSICSTREAM_TOPIC", topic)) == topic


def test_server_and_simulator_talk_to_the_compose_broker(services):
    assert resolve_defaults(environment(services["server"])["MUSICSTREAM_BROKERS"]) == "kafka:9092"
    command = [resolve_defaults(part) for part in as_list(services["simulator"]["command"])]
    assert command[0] == "produce"
    assert command[command.index("--brokers") + 1] == "kafka:9092"
    assert float(command[command.index("--rate") + 1]) > 0


# --- the history store in compose ---------------------------------------------------------------

# What a user might set instead of the defaults: both services must follow it alike.
OVERRIDES = {"POSTGRES_USER": "history", "POSTGRES_PASSWORD": "s3cret-Value.1", "POSTGRES_DB": "listens"}


def test_postgres_is_the_official_image_pinned_to_15_or_16(services):
    image = resolve_defaults(services["postgres"]["image"])
    match = re.fullmatch(r"postgres:(\d+)\.(\d+)(-[a-z0-9.]+)?", image)
    assert match, f"{image}: not the official image at an exact major.minor"
    # The store is tested against PostgreSQL 15; 16 changes nothing it uses.
    assert match.group(1) in ("15", "16"), image
    assert match.group(3) in (None, "-bookworm"), "same Debian release as the server's image, or the default"


def test_postgres_keeps_its_data_in_a_named_volume(compose, services):
    volumes = [str(volume) for volume in services["postgres"]["volumes"]]
    named = [volume.split(":")[0] for volume in volumes if volume.split(":")[1] == "/var/lib/postgresql/data"]
    assert named, f"no volume at the image's PGDATA: {volumes}"
    assert not named[0].startswith((".", "/")), f"{named[0]} is a bind mount, not a named volume"
    assert named[0] in (compose.get("volumes") or {}), f"{named[0]} is not declared under volumes:"


def test_postgres_password_comes_from_the_environment(services):
    raw = environment(services["postgres"])
    for key in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"):
        value = str(raw[key])
        assert re.fullmatch(r"\$\{" + key + r":-[^}]+\}", value), f"{key}: {value} is not ${{{key}:-default}}"
    default = resolve_defaults(raw["POSTGRES_PASSWORD"])
    assert re.search(r"local|dev|change|not-secret|insecure", default), f"default password {default!r} reads as real"
    assert resolve(raw["POSTGRES_PASSWORD"], OVERRIDES) == OVERRIDES["POSTGRES_PASSWORD"]


def test_postgres_is_published_on_loopback_only_if_at_all(services):
    for port in services["postgres"].get("ports") or []:
        # Literally 127.0.0.1: PUBLISH_ADDRESS=0.0.0.0 opens the dashboard, never the database.
        for env in ({}, {"PUBLISH_ADDRESS": "0.0.0.0"}):
            published = resolve(port, env)
            assert published.startswith("127.0.0.1:") and published.endswith(":5432"), published
    assert "expose" not in services["postgres"] or all(str(port) == "5432" for port in services["postgres"]["expose"])


def test_postgres_health_check_is_pg_isready_for_the_servers_role_and_database(services):
    test = [str(part) for part in services["postgres"]["healthcheck"]["test"]]
    assert test[0] in ("CMD", "CMD-SHELL")
    words = " ".join(test[1:]).split()
    assert words[0] == "pg_isready", test
    raw = environment(services["postgres"])
    for env in ({}, OVERRIDES):
        resolved = [resolve(word, env) for word in words]
        assert resolved[resolved.index("-U") + 1] == resolve(raw["POSTGRES_USER"], env)
        assert resolved[resolved.index("-d") + 1] == resolve(raw["POSTGRES_DB"], env)
    # Over TCP: the image's first start runs a socket-only server that pg_isready would call ready.
    assert "-h" in words and words[words.index("-h") + 1] in ("127.0.0.1", "localhost"), test


def test_server_keeps_its_history_in_the_compose_postgres(services):
    server_env = environment(services["server"])
    postgres_env = environment(services["postgres"])
    for env in ({}, OVERRIDES):
        url = urllib.parse.urlsplit(resolve(server_env["MUSICSTREAM_HISTORY"], env))
        assert url.scheme in ("postgres", "postgresql"), url
        assert url.hostname == "postgres" and (url.port or 5432) == 5432, "the postgres service, by its name"
        assert urllib.parse.unquote(url.username) == resolve(postgres_env["POSTGRES_USER"], env)
        assert urllib.parse.unquote(url.password) == resolve(postgres_env["POSTGRES_PASSWORD"], env)
        assert url.path == "/" + resolve(postgres_env["POSTGRES_DB"], env)
    assert services["server"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert re.fullmatch(r"\d+[dhms]|forever", resolve_defaults(server_env["MUSICSTREAM_HISTORY_RETENTION"]))
    assert resolve_defaults(server_env["MUSICSTREAM_NO_EXPORT"]).lower() in ("", "false", "no", "0")


def test_history_settings_are_documented():
    deployment = read(DEPLOYMENT_PATH)
    compose_header = read(COMPOSE_PATH).split("\nname:", 1)[0]
    for name in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "POSTGRES_PUBLISH_PORT",
                 "MUSICSTREAM_HISTORY_RETENTION", "MUSICSTREAM_NO_EXPORT"):
        assert f"`{name}`" in deployment, f"docs/DEPLOYMENT.md does not document {name}"
        assert name in compose_header, f"docker-compose.yml's header does not name {name}"
    section = deployment.split("## History store", 1)
    assert len(section) == 2, "docs/DEPLOYMENT.md has no History store section"
    for needle in ("pg_dump", "partition", "--no-export", "/var/lib/musicstream", "MUSICSTREAM_HISTORY_RETENTION"):
        assert needle in section[1], f"the History store section does not mention {needle}"


# --- replicas behind nginx ----------------------------------------------------------------------

TEMPLATE_PLACEHOLDERS = ("NGINX_LISTEN", "NGINX_UPSTREAM_SERVERS")


def nginx_parse(text):
    """nginx configuration text as a tree: a list of (name, [arguments], children or None).
    Quotes, comments, blocks and semicolons, which is all the template uses."""
    tokens = re.findall(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|#[^\n]*|[{};]|[^\s{};"\'#]+', text)
    tokens = [token for token in tokens if not token.startswith("#")]
    position = 0

    def block():
        nonlocal position
        directives = []
        words = []
        while position < len(tokens):
            token = tokens[position]
            position += 1
            if token == ";":
                directives.append((words[0], words[1:], None))
                words = []
            elif token == "{":
                directives.append((words[0], words[1:], block()))
                words = []
            elif token == "}":
                assert not words, words
                return directives
            else:
                words.append(token[1:-1] if token[0] in "\"'" else token)
        assert not words, words
        return directives
    return block()


def directives(tree, name):
    return [entry for entry in tree if entry[0] == name]


def one(tree, name):
    found = directives(tree, name)
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def seconds(value):
    match = re.fullmatch(r"(\d+)(ms|s|m|h)?", value)
    assert match, value
    return int(match.group(1)) * {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600}[match.group(2)]


def upstream_parameters_from_template(template):
    """The parameters the template's header asks every upstream server line to carry."""
    match = re.search(r"each with\s+#?\s*`([^`]+)`", template)
    assert match, "the template's header does not say which parameters each server line carries"
    return match.group(1).split()


def render_template(template, listen, upstream):
    """The template with its placeholders replaced as plain text (the way the tests and the
    benchmark fill it); each must be there exactly once."""
    for name in TEMPLATE_PLACEHOLDERS:
        assert template.count("${%s}" % name) == 1, name
    text = template.replace("${NGINX_LISTEN}", listen).replace("${NGINX_UPSTREAM_SERVERS}", upstream)
    assert "${" not in text
    return text


@pytest.fixture(scope="module")
def template():
    return read(NGINX_TEMPLATE_PATH)


@pytest.fixture(scope="module")
def http_block(template):
    tree = nginx_parse(render_template(template, "127.0.0.1:18080", "server 127.0.0.1:15001;"))
    return one(tree, "http")[2]


def test_server_is_scaled_without_fixed_names(services):
    server = services["server"]
    replicas = resolve_defaults(server["deploy"]["replicas"])
    assert re.fullmatch(r"\d+", replicas) and int(replicas) >= 2, "more than one replica by default"
    assert resolve(server["deploy"]["replicas"], {"SERVER_REPLICAS": "5"}) == "5"
    # A fixed container name or host name cannot be given to more than one container.
    assert "container_name" not in server and "hostname" not in server
    assert "SERVER_REPLICAS" in read(COMPOSE_PATH).split("\nname:", 1)[0]
    deployment = read(DEPLOYMENT_PATH)
    assert "--scale server=" in deployment and "`SERVER_REPLICAS`" in deployment


def test_replicas_share_the_broker_and_the_history_store(services):
    server_env = environment(services["server"])
    assert resolve_defaults(server_env["MUSICSTREAM_BROKERS"]) == "kafka:9092"
    # PostgreSQL, not the image's per-container SQLite file: one history for every replica.
    assert resolve_defaults(server_env["MUSICSTREAM_HISTORY"]).startswith("postgres://")


def test_nginx_service_runs_the_projects_template(services):
    nginx = services["nginx"]
    image = resolve_defaults(nginx["image"])
    match = re.fullmatch(r"nginx:(\d+)\.(\d+)\.(\d+)(-bookworm)?", image)
    assert match, f"{image}: not the official image at an exact version"
    # The upstream's `resolve` parameter is open source since 1.27.3.
    assert tuple(map(int, match.groups()[:3])) >= (1, 27, 3), image
    mounts = [str(volume) for volume in nginx["volumes"]]
    assert "./deploy/nginx.conf.template:/etc/nginx/templates/nginx.conf.template:ro" in mounts, mounts
    env = {key: str(value) for key, value in environment(nginx).items()}
    # The image's entrypoint writes templates/X.template to $NGINX_ENVSUBST_OUTPUT_DIR/X.
    assert env["NGINX_ENVSUBST_OUTPUT_DIR"] == "/etc/nginx"
    # It substitutes only the variables whose names match this filter (an awk regex).
    pattern = re.compile(env["NGINX_ENVSUBST_FILTER"])
    for name in TEMPLATE_PLACEHOLDERS:
        assert pattern.search(name), name
        assert name in env, f"nginx's environment does not set {name}"
    for name in ("HOSTNAME", "HOME", "PATH", "NGINX_VERSION"):
        assert not pattern.search(name), f"the filter would substitute ${name} too"
    assert env["NGINX_LISTEN"] == "5000"
    assert all(str(port).endswith(":5000") for port in nginx["ports"])
    assert int(nginx["ulimits"]["nofile"]["soft"]) >= 20000
    assert any("/healthz" in part for part in nginx["healthcheck"]["test"])
    assert str(nginx.get("restart")) == "unless-stopped"
    # The image stops nginx gracefully (SIGQUIT): time for the template's worker_shutdown_timeout.
    grace = re.fullmatch(r"(\d+)s", str(nginx["stop_grace_period"]))
    assert grace and int(grace.group(1)) > 10


def test_nginx_upstream_follows_the_replicas_in_dockers_dns(services, template):
    upstream = " ".join(environment(services["nginx"])["NGINX_UPSTREAM_SERVERS"].split())
    statements = [statement.strip() for statement in upstream.split(";") if statement.strip()]
    resolvers = [s.split() for s in statements if s.startswith("resolver ")]
    servers = [s.split() for s in statements if s.startswith("server ")]
    assert len(resolvers) == 1 and resolvers[0][1] == "127.0.0.11", resolvers
    assert len(servers) == 1, servers
    assert servers[0][1] == "server:5000", "the server service by name: Docker's DNS answers every replica"
    assert "resolve" in servers[0], "without `resolve` nginx keeps the addresses it found at start"
    valid = [word for word in resolvers[0] if word.startswith("valid=")]
    assert valid and seconds(valid[0].split("=", 1)[1]) <= 30, "re-resolved within 30 s"
    assert sorted(word for word in servers[0][2:] if word != "resolve") == sorted(
        upstream_parameters_from_template(template))


def test_nginx_template_placeholders(template):
    for name in TEMPLATE_PLACEHOLDERS:
        assert template.count("${%s}" % name) == 1, name
        # envsubst replaces $NAME as well as ${NAME}: a mention in a comment would be filled too.
        assert len(re.findall(r"\$\{?" + name + r"\b", template)) == 1, name
    assert len(re.findall(r"\$\{", template)) == len(TEMPLATE_PLACEHOLDERS), "another ${...} in the template"
    # The upstream placeholder stands alone on its line inside the upstream block (it becomes
    # several lines), and the listen placeholder is the address of the one listen directive.
    assert re.search(r"upstream musicstream \{[^}]*\n\s*\$\{NGINX_UPSTREAM_SERVERS\}\n[^}]*\}", template)
    assert re.search(r"\n\s*listen \$\{NGINX_LISTEN\}[ ;]", template)


def test_nginx_template_streams_sse_unbuffered(http_block):
    server = one(http_block, "server")[2]
    stream = next(children for name, args, children in server if name == "location" and args == ["=", "/stream"])

    def setting(name):
        """The value that applies in /stream: its own, else the server's, else http's."""
        for scope in (stream, server, http_block):
            found = directives(scope, name)
            if found:
                return found[-1][1]
        return None
    assert setting("proxy_buffering") == ["off"]
    assert setting("proxy_http_version") == ["1.1"]
    headers = {args[0].lower(): args[1] for args in (entry[1] for entry in directives(server, "proxy_set_header"))}
    assert headers["connection"] == "", "keep-alive to the replicas needs Connection cleared"
    # The server pings every 15 s; a stream is not cut while its replica lives.
    assert seconds(setting("proxy_read_timeout")[0]) >= 120
    assert setting("gzip") in (None, ["off"]), "compression would buffer the stream"
    assert setting("proxy_cache") in (None, ["off"])
    assert one(stream, "proxy_pass")[1] == ["http://musicstream"]


def test_nginx_template_fails_over_without_sending_a_post_twice(http_block):
    server = one(http_block, "server")[2]
    assert seconds(one(server, "proxy_connect_timeout")[1][0]) <= 5
    # Named locations (@...) answer on nginx's own; every other one proxies.
    locations = {tuple(args): children for name, args, children in server
                 if name == "location" and not args[0].startswith("@")}
    assert ("/",) in locations and ("=", "/stream") in locations
    for location in locations.values():
        assert one(location, "proxy_pass")[1] == ["http://musicstream"]
        own = directives(location, "proxy_next_upstream")
        cases = (own or directives(server, "proxy_next_upstream"))[-1][1]
        assert {"error", "timeout"} <= set(cases), cases
        # nginx retries a POST only if its request never went out, unless told non_idempotent.
        assert "non_idempotent" not in cases and "off" not in cases
    # 503 from a replica means the shared history store is down: retried and counted as a failure,
    # it would take every replica out of rotation. Only /stream's 503 (connection limit) is retried.
    general = directives(locations[("/",)], "proxy_next_upstream") or directives(server, "proxy_next_upstream")
    assert "http_503" not in general[-1][1]
    assert "http_503" in one(locations[("=", "/stream")], "proxy_next_upstream")[1]
    assert seconds(one(server, "proxy_next_upstream_timeout")[1][0]) > 0
    # A request whose replica died mid-flight is a 503 problem (retryable), not an HTML 502.
    assert one(locations[("/",)], "error_page")[1] == ["502", "504", "=503", "@unavailable"]
    unavailable = next(children for name, args, children in server if name == "location" and args == ["@unavailable"])
    assert one(unavailable, "default_type")[1] == ["application/problem+json"]
    assert one(unavailable, "return")[1][0] == "503"
    upstream = one(http_block, "upstream")
    assert upstream[1] == ["musicstream"]
    assert directives(upstream[2], "zone"), "failures seen by one worker must count for all"
    assert int(one(upstream[2], "keepalive")[1][0]) > 0
    # Reused connections must be closed before the server's own idle timeout (30 s).
    assert seconds(one(upstream[2], "keepalive_timeout")[1][0]) < 30


def test_nginx_template_has_room_for_thousands_of_streams(template):
    tree = nginx_parse(render_template(template, "5000", "server 127.0.0.1:15001;"))
    connections = int(one(one(tree, "events")[2], "worker_connections")[1][0])
    assert connections >= 10000, "each subscriber holds two connections in a worker"
    assert int(one(tree, "worker_rlimit_nofile")[1][0]) >= connections
    # A reload or graceful stop would otherwise wait for streams, which never end.
    shutdown = seconds(one(tree, "worker_shutdown_timeout")[1][0])
    assert 0 < shutdown <= 30
    assert not directives(tree, "user"), "tests and the benchmark choose the user (-g)"
    assert not directives(tree, "daemon"), "compose, tests and the benchmark pass -g 'daemon off;'"
    # Paths relative to the prefix (-p), so the file runs from any directory as any user.
    paths = [one(tree, "pid")[1][0]] + [one(one(tree, "http")[2], name)[1][0] for name in
                                         ("client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path",
                                          "uwsgi_temp_path", "scgi_temp_path")]
    assert all(not path.startswith("/") and "/" not in path for path in paths), paths
    http = one(tree, "http")[2]
    # The server accepts request bodies up to 1 MiB; nginx must not refuse them first.
    assert one(http, "client_max_body_size")[1] == ["1m"]


def test_benchmark_fills_the_template_the_way_the_header_says(template):
    harness = read(HARNESS_PATH)
    match = re.search(r'^UPSTREAM_PARAMETERS = "([^"]+)"', harness, re.M)
    assert match and match.group(1).split() == upstream_parameters_from_template(template)
    assert 'os.path.join(ROOT, "deploy", "nginx.conf.template")' in harness


def test_server_tells_proxies_not_to_buffer_the_stream():
    with open(BINARY, "rb") as binary:
        assert b"X-Accel-Buffering" in binary.read(), "the server no longer sends X-Accel-Buffering: no"


def test_setup_installs_nginx_for_the_tests():
    setup = read(SETUP_PATH)
    line = next(line for line in setup.splitlines() if line.startswith("if (( want_test )); then packages+="))
    assert "nginx-light" in re.search(r"packages\+=\(([^)]*)\)", line).group(1).split()


def nginx_accepts(config_text, tmp_path):
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    config = prefix / "nginx.conf"
    config.write_text(config_text)
    return subprocess.run(["nginx", "-t", "-p", f"{prefix}/", "-c", str(config), "-e", "stderr"],
                          capture_output=True, text=True, timeout=30)


def free_port():
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def nginx_binary():
    if not shutil.which("nginx"):
        pytest.skip("needs nginx (scripts/setup --test installs nginx-light)")
    version = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr
    match = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", version)
    assert match, version
    return tuple(map(int, match.groups()))


def test_nginx_accepts_the_template_with_a_loopback_upstream(template, nginx_binary, tmp_path):
    parameters = " ".join(upstream_parameters_from_template(template))
    upstream = "\n        ".join(f"server 127.0.0.1:{port} {parameters};" for port in (free_port(), free_port()))
    result = nginx_accepts(render_template(template, f"127.0.0.1:{free_port()}", upstream), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def test_envsubst_fills_the_template_as_plain_replacement_does(template, monkeypatch):
    if not shutil.which("envsubst"):
        pytest.skip("needs envsubst (gettext-base)")
    upstream = "server 127.0.0.1:15001 max_fails=1 fail_timeout=10s;\n        server 127.0.0.1:15002 max_fails=1 fail_timeout=10s;"
    env = {**os.environ, "NGINX_LISTEN": "127.0.0.1:18080", "NGINX_UPSTREAM_SERVERS": upstream,
           "host": "should-stay", "scheme": "should-stay"}
    filled = subprocess.run(["envsubst", " ".join("${%s}" % name for name in TEMPLATE_PLACEHOLDERS)], input=template,
                            env=env, capture_output=True, text=True, check=True).stdout
    assert filled == render_template(template, "127.0.0.1:18080", upstream)
    assert "$host" in filled and "$proxy_add_x_forwarded_for" in filled


def test_nginx_accepts_the_compose_upstream(services, template, nginx_binary, tmp_path):
    """The compose file's upstream, given to the nginx installed here: verbatim on 1.27.3 or newer;
    on older ones (Debian 12 has 1.22) without what they lack (`resolve`, a resolver in the
    upstream), with the service name pointed at loopback."""
    upstream = " ".join(environment(services["nginx"])["NGINX_UPSTREAM_SERVERS"].split())
    if nginx_binary < (1, 27, 3):
        statements = [s.strip() for s in upstream.split(";") if s.strip() and not s.strip().startswith("resolver ")]
        upstream = " ".join(" ".join(word for word in s.split() if word != "resolve") + ";" for s in statements)
        upstream = upstream.replace("server server:5000", "server 127.0.0.1:5000")
    result = nginx_accepts(render_template(template, str(free_port()), upstream), tmp_path)
    assert result.returncode == 0, result.stderr

# --- the binary accepts what the files use ------------------------------------------------------

def used_commands(services, dockerfile):
    """(subcommand, args) for every musicstream command line in compose and the Dockerfile."""
    commands = []
    cmd = instructions(dockerfile, "CMD")
    assert cmd, "Dockerfile has no CMD"
    commands.append(as_list(yaml.safe_load(cmd[-1])))
    for name in ("server", "simulator"):
        if "command" in services[name]:
            commands.append(as_list(services[name]["command"]))
    return [(command[0], command[1:]) for command in commands]


def test_every_flag_used_exists_in_the_binary(services, dockerfile):
    checked = 0
    for subcommand, args in used_commands(services, dockerfile):
        assert subcommand in ("serve", "produce", "consume"), subcommand
        text = help_text(subcommand)
        for flag in (arg for arg in args if arg.startswith("--")):
            assert re.search(re.escape(flag.split("=")[0]) + r"\b", text), f"`{subcommand}` has no {flag}"
            checked += 1
    assert checked >= 4


def test_every_musicstream_variable_used_is_documented(services, dockerfile):
    readme = read(README_PATH)
    table = {name for line in readme.splitlines() if line.startswith("|")
             for name in re.findall(r"`(MUSICSTREAM_[A-Z0-9_]+)`", line)}
    assert "MUSICSTREAM_BROKERS" in table, "README's flag table was not found"
    used = set(re.findall(r"\bMUSICSTREAM_[A-Z0-9_]+", read(COMPOSE_PATH) + read(DOCKERFILE_PATH)))
    assert used
    for name in sorted(used):
        assert name in table or name.startswith("MUSICSTREAM_KAFKA_"), f"{name} is not a musicstream variable"


def test_the_environment_variables_given_to_containers_are_all_read_by_the_server(services):
    serve_help = help_text("serve")
    for name in ("server",):
        for key in environment(services[name]):
            if key.startswith("MUSICSTREAM_KAFKA_"):
                continue
            assert key.startswith("MUSICSTREAM_"), key
            # --help names the variable, except for --public-dir, documented in README only.
            assert key in serve_help or key in read(README_PATH), key


# --- Dockerfile ---------------------------------------------------------------------------------

def test_dockerfile_is_multi_stage_with_pinned_bases(dockerfile):
    froms = instructions(dockerfile, "FROM")
    assert len(froms) >= 2, froms
    stages = set()
    for line in froms:
        parts = line.split()
        image = parts[0]
        if image not in stages:
            assert ":" in image and not image.endswith(":latest"), f"{image} is not pinned"
            tag = image.split(":", 1)[1]
            assert re.search(r"\d+\.\d+", tag), f"{image}: tag {tag} is not an exact version"
        if len(parts) >= 3 and parts[1].upper() == "AS":
            stages.add(parts[2])
    assert froms[0].split()[0].startswith("swift:6."), "build stage must be an official Swift 6 image"
    assert "swift build -c release --static-swift-stdlib" in dockerfile
    assert "COPY --from=" in dockerfile


def test_dockerfile_builds_against_a_new_enough_librdkafka(dockerfile):
    # Debian 12's librdkafka-dev (2.0.2) cannot talk to brokers that send KIP-482 tagged fields.
    build_stage = dockerfile.split("\nFROM ", 2)[1]
    uses_script = "scripts/librdkafka-2.8" in build_stage and "librdkafka-dev" not in build_stage
    on_trixie = build_stage.split()[0].endswith("trixie")
    assert uses_script or on_trixie
    assert os.access(os.path.join(ROOT, "scripts/librdkafka-2.8"), os.X_OK)


def test_runtime_stage_runs_as_non_root_with_health_check(dockerfile):
    runtime = dockerfile.rsplit("\nFROM ", 1)[1]
    users = instructions(runtime, "USER")
    assert users, "runtime stage has no USER"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert "EXPOSE 5000" in runtime
    healthcheck = instructions(runtime, "HEALTHCHECK")
    assert healthcheck and "/healthz" in healthcheck[-1]
    tool = "curl" if "curl" in healthcheck[-1] else "wget"
    assert re.search(r"apt-get install[^\n]*\b" + tool + r"\b", runtime), f"{tool} is not installed"
    assert "ca-certificates" in runtime
    assert "swift" not in runtime.split("\n", 1)[0], "runtime must not be a Swift toolchain image"
    assert instructions(runtime, "ENTRYPOINT")[-1] == '["/app/musicstream"]'
    cmd = yaml.safe_load(instructions(runtime, "CMD")[-1])
    assert cmd == ["serve", "--host", "0.0.0.0", "--public-dir", "/app/Public"]


def test_runtime_stage_has_the_page_spec_and_libraries(dockerfile):
    runtime = dockerfile.rsplit("\nFROM ", 1)[1]
    copies = instructions(runtime, "COPY")
    assert any(copy.split()[0] == "Public" and copy.split()[-1].rstrip("/") == "/app/Public" for copy in copies)
    # The server looks for openapi.yaml in the parent of the page's directory.
    assert any(copy.split()[0] == "openapi.yaml" and copy.split()[-1] in ("/app/openapi.yaml", "/app/")
               for copy in copies)
    for library in ("libevent-2.1-7", "libevent-pthreads-2.1-7"):
        assert library in runtime
    assert "librdkafka" in runtime
    # The page's vendored assets, served from /usr/share/javascript.
    assert "libjs-bootstrap5" in runtime and "libjs-chart.js" in runtime
    for path in ("Public", "openapi.yaml", "Package.swift", "Sources"):
        assert os.path.exists(os.path.join(ROOT, path)), path


def test_dockerignore_keeps_build_outputs_and_git_out():
    entries = {line.strip() for line in read(DOCKERIGNORE_PATH).splitlines()
               if line.strip() and not line.startswith("#")}
    for required in (".git", "test-artifacts"):
        assert required in entries, required
    assert ".build" in entries or ".build*" in entries
    # A local run's history (./data): personal data, kept out of the build context.
    assert "data" in entries or "/data" in entries
    assert any("__pycache__" in entry for entry in entries)
    for needed in ("Public", "openapi.yaml", "Sources", "Package.swift", "scripts"):
        assert needed not in entries, f"{needed} is needed by the build"


def runtime_packages(runtime):
    """Packages the runtime stage's apt-get install lines name."""
    packages = set()
    for line in instructions(runtime, "RUN"):
        for command in line.split("&&"):
            words = command.split()
            if "apt-get" in words and "install" in words:
                packages.update(word for word in words[words.index("install") + 1:] if not word.startswith("-"))
    return packages


def test_build_stage_has_the_history_stores_headers(dockerfile):
    build_stage = dockerfile.split("\nFROM ", 2)[1]
    install = " ".join(line for line in instructions(build_stage, "RUN") if "apt-get" in line)
    # Package.swift's CSQLite and CPostgres find them through pkg-config.
    for package in ("libsqlite3-dev", "libpq-dev", "pkg-config"):
        assert re.search(r"\b" + re.escape(package) + r"(\s|$)", install), f"build stage lacks {package}"
    package_swift = read(os.path.join(ROOT, "Package.swift"))
    assert '.apt(["libsqlite3-dev"])' in package_swift and '.apt(["libpq-dev"])' in package_swift


def test_runtime_stage_has_the_history_stores_libraries(dockerfile):
    runtime = dockerfile.rsplit("\nFROM ", 1)[1]
    packages = runtime_packages(runtime)
    for package in ("libsqlite3-0", "libpq5"):
        assert package in packages, f"runtime stage lacks {package}"


def test_runtime_stage_has_every_library_the_binary_links():
    """Each shared library the binary names (NEEDED) that a Debian package provides here is
    installed by the runtime stage, or is in every Debian image (libc6). The Swift runtime is
    linked statically in the image and librdkafka is copied from the build stage."""
    if not (shutil.which("readelf") and shutil.which("ldd") and shutil.which("dpkg")):
        pytest.skip("needs readelf, ldd and dpkg")
    runtime = read(DOCKERFILE_PATH).rsplit("\nFROM ", 1)[1]
    packages = runtime_packages(re.sub(r"\\\n", " ", runtime)) | {"libc6"}
    dynamic = subprocess.run(["readelf", "-d", BINARY], capture_output=True, text=True, check=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic)
    assert "libpq.so.5" in needed and "libsqlite3.so.0" in needed, needed
    resolved = dict(re.findall(r"^\s*(\S+) => (/\S+)", subprocess.run(
        ["ldd", BINARY], capture_output=True, text=True, check=True).stdout, re.M))
    if any(library.startswith("librdkafka") for library in needed):
        assert "COPY --from=build /usr/local/lib/librdkafka.so.1" in runtime
    # Both the path the loader found and the file it points to: dpkg knows one of them.
    paths = {library: {resolved[library], os.path.realpath(resolved[library])}
             for library in needed if library in resolved and not library.startswith("librdkafka")}
    # One dpkg call for all (it exits 1 when some path is no package's, and still lists the rest).
    search = subprocess.run(["dpkg", "-S", *sorted(set().union(*paths.values()))], capture_output=True, text=True)
    owners = {}
    for line in search.stdout.splitlines():
        names, _, path = line.partition(": ")
        owners[path.strip()] = names.split(",")[0].split(":")[0].strip()
    checked = 0
    for library, candidates in sorted(paths.items()):
        package = next((owners[path] for path in candidates if path in owners), None)
        if package is None:
            continue  # not Debian's: the Swift toolchain's runtime, static in the image
        assert package in packages, f"{library} ({package}) is not installed in the runtime stage"
        checked += 1
    assert checked >= 4, owners


def test_runtime_stage_gives_the_sqlite_history_a_volume_the_user_owns(dockerfile):
    runtime = dockerfile.rsplit("\nFROM ", 1)[1]
    env = " ".join(instructions(runtime, "ENV"))
    match = re.search(r"\bMUSICSTREAM_DATA_DIR=(\S+)", env)
    assert match, "the runtime stage does not set MUSICSTREAM_DATA_DIR"
    data_dir = match.group(1)
    assert data_dir.startswith("/") and not data_dir.startswith("/app"), data_dir
    volumes = [volume for line in instructions(runtime, "VOLUME")
               for volume in (yaml.safe_load(line) if line.startswith("[") else line.split())]
    assert data_dir in volumes, f"{data_dir} is not a VOLUME: {volumes}"
    user = instructions(runtime, "USER")[-1].split(":")
    uid = user[0]
    gid = user[1] if len(user) > 1 else None
    names = {uid}
    for line in instructions(runtime, "RUN"):  # a user created by name with a fixed --uid
        for command in line.split("&&"):
            created = re.search(r"useradd\b.*--uid (\d+)\b.*\s(\w[\w-]*)\s*$", command)
            if created and created.group(1) == uid:
                names.add(created.group(2))
    lines = runtime.splitlines()
    volume_line = next(index for index, line in enumerate(lines) if line.startswith("VOLUME") and data_dir in line)
    made = [line for line in lines[:volume_line] if line.startswith("RUN") and data_dir in line]
    assert made, f"{data_dir} is not made before its VOLUME (later changes to it are lost)"
    owned = False
    for line in made:
        for command in line[len("RUN"):].split("&&"):
            words = command.split()
            if data_dir not in words:
                continue
            if words[0] == "install" and ("-d" in words or "--directory" in words):
                owner = next((words[i + 1] for i, word in enumerate(words[:-1]) if word in ("-o", "--owner")), None)
                group = next((words[i + 1] for i, word in enumerate(words[:-1]) if word in ("-g", "--group")), None)
                owned = owned or (owner in names and (gid is None or group in names | {gid}))
            elif words[0] == "chown":
                owner, _, group = next(word for word in words[1:] if not word.startswith("-")).partition(":")
                owned = owned or (owner in names and (gid is None or not group or group in names | {gid}))
    assert owned, f"{data_dir} is not owned by the runtime user {':'.join(user)}"

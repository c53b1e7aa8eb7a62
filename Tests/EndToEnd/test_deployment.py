"""Static checks of the deployment files (Dockerfile, docker-compose.yml).

No Docker engine runs where the suite runs, so the images are never built or started here. What can
be checked without one is checked: the compose file's structure, pinned images, ports and start
order, the Dockerfile's stages and runtime hardening, and that every command line and MUSICSTREAM_*
variable the files use is one the real binary accepts.
"""
import os
import re
import subprocess

import pytest
import yaml

from conftest import BINARY

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
COMPOSE_PATH = os.path.join(ROOT, "docker-compose.yml")
DOCKERFILE_PATH = os.path.join(ROOT, "Dockerfile")
DOCKERIGNORE_PATH = os.path.join(ROOT, ".dockerignore")
README_PATH = os.path.join(ROOT, "README.md")

INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?+]([^}]*))?\}")


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def resolve_defaults(value):
    """What compose makes of ${VAR:-default} with nothing set in the environment."""
    return INTERPOLATION.sub(lambda match: match.group(2) or "", str(value))


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
    assert {"kafka", "topic-init", "server", "simulator"} <= set(services)


def test_every_image_is_pinned_to_an_exact_version(compose, services):
    images = {name: resolve_defaults(service["image"]) for name, service in services.items() if "image" in service}
    assert images, "no image: entries at all"
    for name, image in images.items():
        if "build" in services[name]:
            continue  # built here from the Dockerfile; its name is a local tag
        assert ":" in image.rsplit("/", 1)[-1], f"{name}: {image} has no tag"
        tag = image.rsplit(":", 1)[1]
        assert tag != "latest", f"{name}: {image} is not pinned"
        assert re.fullmatch(r"\d+\.\d+\.\d+([-.][\w.]+)?", tag), f"{name}: {image} is not an exact version"
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


def test_server_publishes_port_5000(services):
    ports = [resolve_defaults(port) for port in services["server"]["ports"]]
    assert any(port.endswith(":5000:5000") or port == "5000:5000" for port in ports), ports


def test_start_order_waits_for_a_healthy_broker_and_the_topic(services):
    assert services["topic-init"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    for name in ("server", "simulator"):
        assert services[name]["depends_on"]["topic-init"]["condition"] == "service_completed_successfully"
    for name in ("kafka", "server"):
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
    assert any("__pycache__" in entry for entry in entries)
    for needed in ("Public", "openapi.yaml", "Sources", "Package.swift", "scripts"):
        assert needed not in entries, f"{needed} is needed by the build"

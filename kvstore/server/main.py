"""`kvstore-server` / `python -m kvstore`: the standalone server's command line.

    kvstore-server [CONFIG-FILE] [--port 6379] [--bind 127.0.0.1] [--dir .] [--requirepass ...]
                   [--unixsocket PATH] [--any-redis-option value ...]

As with redis-server, the optional first argument is a redis.conf-syntax file and every
`--name value...` pair is a config line applied after it. `--version` / `-v` and `--help` / `-h`
print and exit. `daemonize yes` forks into the background as Redis does, unless a supervisor is
in force (`supervised`).
"""

from __future__ import annotations

import logging
import os
import sys

from ..version import REDIS_VERSION, __version__
from ..commands.table import rename_command
from .config import Config
from .config_lines import ConfigFileError, FatalConfigError, parse_command_line, read_config_file
from .memory import tune_malloc
from .process import ProcessControls
from .server import Log, LogHandler, Server, run, startup_banner

USAGE = """Usage: kvstore-server [/path/to/redis.conf] [options] [-]
       kvstore-server - (read config from stdin)
       kvstore-server -v or --version
       kvstore-server -h or --help

Examples:
       kvstore-server (run the server with default conf)
       kvstore-server /etc/redis/6379.conf
       kvstore-server --port 7777
       kvstore-server /etc/myredis.conf --loglevel verbose
       kvstore-server --port 7777 --requirepass secret --unixsocket /tmp/kv.sock
"""


_USERS_AND_ACLFILE = (
    "Configuring Redis with users defined in redis.conf and at the same setting an ACL file "
    "path is invalid. This setup is very likely to lead to configuration errors and security "
    "holes, please define either an ACL file or declare users directly in your redis.conf, but "
    "not both.")


def load_config(argv: list[str]) -> Config:
    """Defaults, then the config file, stdin and the command-line options, read as one text as
    Redis reads them, so a bad option is reported at its line past the file's (raises
    FatalConfigError, or ConfigFileError if the file cannot be read)."""
    config = Config()
    path, stdin, options = parse_command_line(argv)
    text = ""
    if path is not None:
        config.config_file = os.path.abspath(path)
        text = read_config_file(config.config_file)
    if stdin:
        text += sys.stdin.read()
    config.load_text(f"{text}\n{options}")
    logfile = config["logfile"]
    if logfile:  # as Redis: checked once read, since the server could not say so later
        try:
            open(logfile, "a").close()
        except OSError as exc:
            raise FatalConfigError(f"Can't open the log file: {exc.strerror}") from None
    if config["cluster-enabled"] and config["replicaof"]:
        raise FatalConfigError("replicaof directive not allowed in cluster mode")
    return config


# Where a daemonized server writes its pid when no pidfile is set (Redis's CONFIG_DEFAULT_PID_FILE)
DEFAULT_PIDFILE = "/var/run/redis.pid"


def daemonize() -> None:
    """As Redis's: the parent exits 0, the child leads a new session with its standard streams
    on /dev/null (a log to stdout is lost: set logfile)."""
    if os.fork():
        os._exit(0)
    os.setsid()
    fd = os.open(os.devnull, os.O_RDWR)
    for std in (0, 1, 2):
        os.dup2(fd, std)
    if fd > 2:
        os.close(fd)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-v", "--version"):
        print(f"kvstore server v={__version__} (redis-compatible {REDIS_VERSION}) bits=64")
        return 0
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    try:
        config = load_config(argv)  # `dir` is in force once read (chdir), as in Redis
    except FatalConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except ConfigFileError as exc:
        log = Log()
        log.role = "C"
        log.warning("%s", exc)
        return 1
    log = Log(config["loglevel"], config["logfile"])
    if config["syslog-enabled"]:
        log.open_syslog(config["syslog-ident"], config["syslog-facility"])
    if config.users and config["aclfile"]:  # (Redis says so when it loads the users)
        log.warning("%s", _USERS_AND_ACLFILE)
        return 1
    for name, new in config.renames:
        rename_command(name, new)
    tune_malloc()
    server = Server(config, log)
    library = logging.getLogger("kvstore")
    library.addHandler(LogHandler(log))
    library.propagate = False  # (not also to stderr: the program's log is its one place)
    startup_banner(server)
    background = config["daemonize"] and server.supervised == "no"
    if background:
        daemonize()
    server.process = ProcessControls(server)
    server.process.attach()
    if config["set-proc-title"]:
        server.process.set_title()
    for path in config.modules:  # Redis's texts when a module does not load
        log.warning("Module %s failed to load: kvstore does not load modules", path)
        log.warning("Can't load module from %s: server aborting", path)
        return 1
    if config["tls-port"] or config["tls-replication"] or config["tls-cluster"]:
        log.warning("Failed to configure TLS: kvstore has no TLS (tls-port, tls-replication and "
                    "tls-cluster must be 0 and no).")
        return 1
    pidfile = config["pidfile"] or (DEFAULT_PIDFILE if background else "")
    if pidfile:
        try:
            with open(pidfile, "w") as f:
                f.write(f"{os.getpid()}\n")
        except OSError as exc:  # as Redis: a warning, and the server runs without one
            log.warning("Failed to write PID file: %s", exc.strerror)
            pidfile = ""
    try:
        return run(server=server)
    finally:
        if pidfile and os.path.exists(pidfile):
            os.unlink(pidfile)


if __name__ == "__main__":
    sys.exit(main())

"""INFO: the text Redis's `genRedisInfoString` produces, from the server's counters.

Sections are `# Name` headers followed by `field:value` lines, separated by a blank line, with
CRLF line ends. `INFO` and `INFO default` give the default sections; `all` adds commandstats,
errorstats and latencystats (server/latency.py); `everything` is `all` here.
Fields kvstore has no equivalent for (replication, forks, defrag) report Redis's idle values, so
tools that parse INFO find what they expect.
"""

from __future__ import annotations

import os
import platform
import resource
import time

from ..persistence.manager import fork_stats
from ..version import REDIS_VERSION, __version__

DEFAULT_SECTIONS = ["server", "clients", "memory", "persistence", "stats", "replication",
                    "cpu", "modules", "errorstats", "cluster", "keyspace"]
ALL_SECTIONS = DEFAULT_SECTIONS[:7] + ["modules", "commandstats", "errorstats", "latencystats",
                                       "cluster", "keyspace"]
_RUN_ID = os.urandom(20).hex()


def human(n: float) -> str:
    """Redis's bytesToHuman: 1.54M, 200B."""
    for unit, size in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return f"{int(n)}B"


def info_text(ctx, sections: list[str]) -> str:
    client = ctx.client
    server = client.server if client is not None else None
    if not sections or sections == ["default"]:
        wanted = DEFAULT_SECTIONS
    elif "all" in sections or "everything" in sections:
        wanted = ALL_SECTIONS
    else:
        wanted = [s for s in ALL_SECTIONS if s in sections or
                  (s == "default" and False)]
        if "default" in sections:
            wanted = list(dict.fromkeys(DEFAULT_SECTIONS + wanted))
    out = []
    for name in wanted:
        fields = _SECTIONS[name](ctx, server)
        title = "CPU" if name == "cpu" else name.capitalize()
        lines = [f"# {title}"] + [f"{k}:{v}" for k, v in fields]
        out.append("\r\n".join(lines) + "\r\n")
    return "\r\n".join(out)


def _server(ctx, server) -> list:
    cfg = server.config if server is not None else None
    uptime = int(time.time() - server.start_time) if server is not None else 0
    return [
        ("redis_version", REDIS_VERSION), ("kvstore_version", __version__),
        ("redis_git_sha1", "00000000"), ("redis_git_dirty", "0"), ("redis_build_id", "0"),
        ("redis_mode", "standalone"),
        ("os", f"{platform.system()} {platform.release()} {platform.machine()}"),
        ("arch_bits", "64"), ("monotonic_clock", "POSIX clock_gettime"),
        ("multiplexing_api", "asyncio"), ("python_version", platform.python_version()),
        ("process_id", os.getpid()),
        ("process_supervised", server.supervised if server is not None else "no"),
        ("run_id", _RUN_ID),
        ("tcp_port", cfg["port"] if cfg else 0),
        ("server_time_usec", time.time_ns() // 1000), ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400),
        ("hz", cfg["hz"] if cfg else 10), ("configured_hz", cfg["hz"] if cfg else 10),
        ("lru_clock", int(time.time()) & ((1 << 24) - 1)),
        ("executable", os.path.abspath(os.sys.argv[0]) if os.sys.argv else ""),
        ("config_file", (cfg.config_file or "") if cfg else ""), ("io_threads_active", 0),
    ] + ([("shutdown_in_milliseconds",  # (while a shutdown waits for lagging replicas)
           max(0, int((server.shutdown_deadline - time.monotonic()) * 1000)))]
         if server is not None and server.shutdown_waiting else [])


def _clients(ctx, server) -> list:
    # (as Redis's: its replicas' connections are not counted)
    n = len(server.clients) - len(server.replication.replicas) if server is not None else 0
    return [
        ("connected_clients", n), ("cluster_connections", 0),
        ("maxclients", server.config["maxclients"] if server else 10000),
        ("client_recent_max_input_buffer", 0), ("client_recent_max_output_buffer", 0),
        # (as Redis's, clients postponed by CLIENT PAUSE and waiting in WAIT included)
        ("blocked_clients", sum(c.blocked for c in server.clients.values()) if server else 0),
        ("tracking_clients", server.tracking.count if server else 0),
        ("clients_in_timeout_table", sum(
            1 for c in server.clients.values() if c.waiter is not None and c.waiter.timer)
         if server else 0),
    ]


def _memory(ctx, server) -> list:
    from .memory import allocated_bytes, rss_bytes

    if server is not None:
        used = server.memory.sample()
        peak = server.memory.peak
        maxmemory = server.memory.maxmemory
        policy = server.memory.policy
    else:
        used = peak = allocated_bytes()
        maxmemory, policy = 0, "noeviction"
    rss = rss_bytes()
    scripts = getattr(ctx.ks, "scripts", None)
    lua = scripts.rt.get_memory_used() if scripts is not None else 0
    cached = len(scripts.loaded) if scripts is not None else 0
    functions = getattr(ctx.ks, "functions", None)
    libraries = functions.libraries if functions is not None else {}
    function_bytes = sum(len(lib.code) for lib in libraries.values())  # (their sources)
    function_vm = functions.engine.rt.get_memory_used() if functions is not None else 0
    system = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    # What Redis counts apart from the data set: clients' output, the replication backlog,
    # the AOF buffer, the scripting VMs (kvstore cannot see its dicts' own overhead).
    clients_out = replicas_out = 0
    for c in server.clients.values() if server is not None else ():
        out = c.transport.get_write_buffer_size() if c.transport is not None else 0
        if c.replica is not None:  # (and the stream it collects while its file is written)
            replicas_out += out + len(c.replica.pending or b"")
        else:
            clients_out += out
    backlog = len(server.replication.backlog or b"") if server is not None else 0
    p = getattr(ctx.ks, "persistence", None)
    aof_buf = len(p.writer.buf) if p is not None and p.writer is not None else 0
    scripts_bytes = sum(map(len, scripts.bodies)) if scripts is not None else 0
    overhead = clients_out + replicas_out + backlog + aof_buf + lua + function_vm
    allocated = allocated_bytes()
    return [
        ("used_memory", used), ("used_memory_human", human(used)),
        ("used_memory_rss", rss), ("used_memory_rss_human", human(rss)),
        ("used_memory_peak", peak), ("used_memory_peak_human", human(peak)),
        ("used_memory_peak_perc", f"{used * 100 / peak:.2f}%" if peak else "0.00%"),
        ("used_memory_overhead", overhead), ("used_memory_startup", 0),
        ("used_memory_dataset", max(used - overhead, 0)),
        ("used_memory_dataset_perc", f"{max(used - overhead, 0) * 100 / used:.2f}%"
         if used else "0.00%"),
        # glibc's malloc: what it handed out, as allocated and active alike (no jemalloc
        # pages to tell apart), and the process's RSS as resident
        ("allocator_allocated", allocated), ("allocator_active", allocated),
        ("allocator_resident", rss),
        ("total_system_memory", system), ("total_system_memory_human", human(system)),
        ("used_memory_lua", lua), ("used_memory_vm_eval", lua),
        ("used_memory_lua_human", human(lua)), ("used_memory_scripts_eval", scripts_bytes),
        ("number_of_cached_scripts", cached),
        ("number_of_functions", sum(len(lib.functions) for lib in libraries.values())),
        ("number_of_libraries", len(libraries)),
        ("used_memory_vm_functions", function_vm),
        ("used_memory_vm_total", lua + function_vm),
        ("used_memory_vm_total_human", human(lua + function_vm)),
        ("used_memory_functions", function_bytes),
        ("used_memory_scripts", scripts_bytes + function_bytes),
        ("used_memory_scripts_human", human(scripts_bytes + function_bytes)),
        ("maxmemory", maxmemory), ("maxmemory_human", human(maxmemory)),
        ("maxmemory_policy", policy),
        ("allocator_frag_ratio", "1.00"), ("allocator_frag_bytes", 0),
        ("allocator_rss_ratio", f"{rss / allocated:.2f}" if allocated else "0.00"),
        ("allocator_rss_bytes", rss - allocated),
        ("rss_overhead_ratio", "1.00"), ("rss_overhead_bytes", 0),
        ("mem_fragmentation_ratio", f"{rss / used:.2f}" if used else "0.00"),
        ("mem_fragmentation_bytes", rss - used),
        ("mem_not_counted_for_evict", aof_buf), ("mem_replication_backlog", backlog),
        ("mem_total_replication_buffers", backlog + replicas_out),
        ("mem_clients_slaves", replicas_out),
        ("mem_clients_normal", clients_out), ("mem_cluster_links", 0),
        ("mem_aof_buffer", aof_buf),
        ("mem_allocator", "libc"), ("active_defrag_running", 0),
        ("lazyfree_pending_objects", ctx.ks.lazyfree.pending_objects),
        ("lazyfreed_objects", ctx.ks.lazyfree.freed_objects),
    ]


def _persistence(ctx, server) -> list:
    fields = _persistence_fields(ctx, server)
    if server is not None and server.replication.sync_children:
        # A child writing a replica's file is an RDB child, as Redis's replication BGSAVE
        started = int(time.monotonic() - server.replication.sync_started)
        fields = [(name, 1) if name == "rdb_bgsave_in_progress"
                  else (name, started) if name == "rdb_current_bgsave_time_sec" and value < 0
                  else (name, value) for name, value in fields]
    return fields


def _persistence_fields(ctx, server) -> list:
    p = getattr(ctx.ks, "persistence", None)
    loading = server.loading if server is not None else None
    progress = [] if loading is None else loading.info()
    if p is not None:  # kvstore.persistence reports its own state
        return [("loading", int(loading is not None)), ("async_loading", 0)] + p.info() \
            + progress
    lastsave = server.lastsave if server is not None else int(time.time())
    aof = server.config["appendonly"] if server is not None else False
    loaded = sum(len(db.data) for db in ctx.ks.dbs) if loading is not None else 0
    return [
        ("loading", int(loading is not None)), ("async_loading", 0), ("current_cow_peak", 0),
        ("current_cow_size", 0),
        ("current_cow_size_age", 0), ("current_fork_perc", "0.00"),
        ("current_save_keys_processed", 0), ("current_save_keys_total", 0),
        ("rdb_changes_since_last_save", ctx.ks.unsaved),
        ("rdb_bgsave_in_progress", 0), ("rdb_last_save_time", lastsave),
        ("rdb_last_bgsave_status", "ok"), ("rdb_last_bgsave_time_sec", -1),
        ("rdb_current_bgsave_time_sec", -1), ("rdb_saves", 0), ("rdb_last_cow_size", 0),
        ("rdb_last_load_keys_expired", 0), ("rdb_last_load_keys_loaded", loaded),
        ("aof_enabled", int(bool(aof))), ("aof_rewrite_in_progress", 0),
        ("aof_rewrite_scheduled", 0), ("aof_last_rewrite_time_sec", -1),
        ("aof_current_rewrite_time_sec", -1), ("aof_last_bgrewrite_status", "ok"),
        ("aof_rewrites", 0), ("aof_rewrites_consecutive_failures", 0),
        ("aof_last_write_status", "ok"), ("aof_last_cow_size", 0),
        ("module_fork_in_progress", 0), ("module_fork_last_cow_size", 0),
    ] + progress


def total_calls() -> int:
    from ..commands.table import every_command

    return sum(c.calls for c in every_command())


_NO_TRACKING = [("tracking_total_keys", 0), ("tracking_total_items", 0),
                ("tracking_total_prefixes", 0)]


def _stats(ctx, server) -> list:
    st = server.stats if server is not None else None
    ops, kb_in, kb_out = st.instantaneous() if st else (0, 0.0, 0.0)
    ps = server.pubsub if server is not None else None
    return [
        ("total_connections_received", st.connections if st else 0),
        ("total_commands_processed", total_calls()),
        ("instantaneous_ops_per_sec", ops),
        ("total_net_input_bytes", st.net_input if st else 0),
        ("total_net_output_bytes", st.net_output if st else 0),
        ("total_net_repl_input_bytes", 0), ("total_net_repl_output_bytes", 0),
        ("instantaneous_input_kbps", f"{kb_in:.2f}"),
        ("instantaneous_output_kbps", f"{kb_out:.2f}"),
        ("instantaneous_input_repl_kbps", "0.00"), ("instantaneous_output_repl_kbps", "0.00"),
        ("rejected_connections", st.rejected_conn if st else 0),
        ("sync_full", st.sync_full if st else 0),
        ("sync_partial_ok", st.sync_partial_ok if st else 0),
        ("sync_partial_err", st.sync_partial_err if st else 0),
        ("expired_keys", ctx.ks.expired_keys),
        ("expired_stale_perc", f"{ctx.ks.expired_stale_perc * 100:.2f}"),
        ("expired_time_cap_reached_count", ctx.ks.expire_time_cap_reached),
        ("expire_cycle_cpu_milliseconds", ctx.ks.expire_cycle_us // 1000),
        ("evicted_keys", st.evicted_keys if st else 0),
        ("evicted_clients", st.evicted_clients if st else 0),
        ("total_eviction_exceeded_time", 0),
        ("current_eviction_exceeded_time", 0), ("keyspace_hits", ctx.ks.hits),
        ("keyspace_misses", ctx.ks.misses),
        ("pubsub_channels", len(ps.channels) if ps else 0),
        ("pubsub_patterns", ps.numpat() if ps else 0),
        ("pubsubshard_channels", len(ps.shard_channels) if ps else 0),
        ("latest_fork_usec", fork_stats["latest_usec"]), ("total_forks", fork_stats["total"]),
        ("migrate_cached_sockets", len(getattr(ctx.ks, "migrate_sockets", ()))),
        # (no defragmentation or I/O threads here: zeros)
        ("slave_expires_tracked_keys", len(ctx.ks.own_expires)),
        ("active_defrag_hits", 0), ("active_defrag_misses", 0), ("active_defrag_key_hits", 0),
        ("active_defrag_key_misses", 0), ("total_active_defrag_time", 0),
        ("current_active_defrag_time", 0),
        *(server.tracking.info() if server else _NO_TRACKING),
        ("unexpected_error_replies", st.unexpected_errors if st else 0),
        ("total_error_replies", st.total_errors if st else 0),
        ("dump_payload_sanitizations", 0),
        ("total_protocol_errors", st.protocol_errors if st else 0),
        ("io_threaded_reads_processed", 0), ("io_threaded_writes_processed", 0),
        ("reply_buffer_shrinks", 0), ("reply_buffer_expands", 0),
    ]


def _replication(ctx, server) -> list:
    if server is not None:
        return server.replication.info()
    return [
        ("role", "master"), ("connected_slaves", 0), ("master_failover_state", "no-failover"),
        ("master_replid", _RUN_ID[:40]), ("master_replid2", "0" * 40),
        ("master_repl_offset", 0), ("second_repl_offset", -1), ("repl_backlog_active", 0),
        ("repl_backlog_size", 1048576), ("repl_backlog_first_byte_offset", 0),
        ("repl_backlog_histlen", 0),
    ]


def _cpu(ctx, server) -> list:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    main = resource.getrusage(resource.RUSAGE_THREAD)
    return [
        ("used_cpu_sys", f"{me.ru_stime:.6f}"), ("used_cpu_user", f"{me.ru_utime:.6f}"),
        ("used_cpu_sys_children", f"{kids.ru_stime:.6f}"),
        ("used_cpu_user_children", f"{kids.ru_utime:.6f}"),
        # INFO runs on the event loop's thread, the one that runs every command
        ("used_cpu_sys_main_thread", f"{main.ru_stime:.6f}"),
        ("used_cpu_user_main_thread", f"{main.ru_utime:.6f}"),
    ]


def _commandstats(ctx, server) -> list:
    from ..commands.table import reported

    out = []
    for name, parts in reported():  # (DEBUG: one command to Redis, one line)
        calls, seconds = sum(c.calls for c in parts), sum(c.seconds for c in parts)
        rejected, failed = sum(c.rejected for c in parts), sum(c.failed for c in parts)
        if calls or failed or rejected:
            per = seconds * 1e6 / calls if calls else 0.0
            out.append((f"cmdstat_{name}", f"calls={calls},usec={int(seconds * 1e6)},"
                        f"usec_per_call={per:.2f},rejected_calls={rejected},"
                        f"failed_calls={failed}"))
    return out


def _latencystats(ctx, server) -> list:
    """Each timed command's latency-tracking-info-percentiles (none with latency-tracking
    off, as Redis)."""
    if server is None or not server.track_latency:
        return []
    from ..commands.table import merged_latency, reported
    from .latency import fold_all, format_percentile, percentile_us

    fold_all()
    wanted = server.config["latency-tracking-info-percentiles"]
    out = []
    for name, parts in reported():
        latency = merged_latency(parts)
        if latency:
            total = sum(latency.values())
            out.append((f"latency_percentiles_usec_{name}", ",".join(
                f"p{format_percentile(p)}={percentile_us(latency, total, p):.3f}"
                for p in wanted)))
    return out


def _errorstats(ctx, server) -> list:
    if server is None:
        return []
    return [(f"errorstat_{k}", f"count={v}") for k, v in sorted(server.stats.errors.items())]


def _keyspace(ctx, server) -> list:
    out = []
    for db in ctx.ks.dbs:
        if db.data:
            out.append((f"db{db.id}", f"keys={len(db.data)},expires={len(db.expires)},"
                        f"avg_ttl={db.avg_ttl}"))
    return out


def _empty(ctx, server) -> list:
    return []


_SECTIONS = {
    "server": _server, "clients": _clients, "memory": _memory, "persistence": _persistence,
    "stats": _stats, "replication": _replication, "cpu": _cpu, "modules": _empty,
    "commandstats": _commandstats, "errorstats": _errorstats, "latencystats": _latencystats, "cluster":
        lambda ctx, server: [("cluster_enabled", 0)], "keyspace": _keyspace,
}

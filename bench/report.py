"""Write ``var/bench/results.md``: one table per benchmark from the JSON and text files the benchmarks left in
``var/bench/`` (run by ``make bench`` after them; a benchmark that did not run is listed as missing)."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "var" / "bench"


def load(name: str):
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def section(title: str, data, body) -> list[str]:
    """A results section: its title, then ``body(data)`` and the goals, or "Not run." without data."""
    lines = [f"## {title}", ""]
    if data is None:
        return [*lines, "Not run.", ""]
    lines += [*body(data), ""]
    lines += [f"- {'met' if met else '**not met**'}: {goal}" for goal, met in data["goals"].items()]
    return [*lines, ""]


def pages_body(data) -> list[str]:
    lines = [
        f"gunicorn, 2 sync workers, PostgreSQL; ApacheBench on loopback, 8 concurrent (its own ceiling here: "
        f"{data['generator_ceiling_rps']:.0f} req/s). Ratio = the page's req/s / the static file's req/s "
        "in the same server run.", "",
        "| page | run | req/s | p50 ms | p99 ms | ratio to static | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in data["rows"]:
        lines.append(f"| {row['label']} | {row['run']} | {row['rps']:.0f} | {row['p50_ms']:.1f} | "
                     f"{row['p99_ms']:.1f} | {row['ratio']:.2f} | {row['errors']} |")
    return lines


def scale_body(data) -> list[str]:
    queries = data["queries"]
    lines = [
        f"seed_scale --scale {data['scale']} ({data['seed_seconds']:.0f} s) against seed_demo; load average "
        f"{data['load_average']['start']} at the start, {data['load_average']['end']} at the end.", "",
        "| page | queries, demo / scale (memos off) | queries, demo / scale (warm) |",
        "| --- | ---: | ---: |",
    ]
    for name, cold in queries["demo"]["cold"].items():
        lines.append(f"| {name} | {cold} / {queries['scale']['cold'][name]} | "
                     f"{queries['demo']['warm'][name]} / {queries['scale']['warm'][name]} |")
    lines += ["", "| page | run | p99 ms, demo / scale | p99 factor | ratio to static, demo / scale | errors |",
              "| --- | --- | ---: | ---: | ---: | ---: |"]
    for row in data["rows"]:
        lines.append(f"| {row['label']} | {row['run']} | {row['demo']['p99_ms']:.1f} / {row['scale']['p99_ms']:.1f} | "
                     f"{row['p99_factor']:.2f} | {row['demo_ratio']:.3f} / {row['scale_ratio']:.3f} | "
                     f"{row['demo']['errors'] + row['scale']['errors']} |")
    lines += ["", "| admin page at scale | median ms | slowest ms |", "| --- | ---: | ---: |"]
    for name, timing in data["admin"].items():
        lines.append(f"| {name} | {timing['median_s'] * 1000:.0f} | {timing['max_s'] * 1000:.0f} |")
    return lines


def subscribe_body(data) -> list[str]:
    lines = [
        f"{data['concurrency']} concurrent POSTs of the full signup form; rate limits raised for the run.", "",
        "| burst | requests | req/s | p50 ms | p99 ms | rows | expected rows | statuses |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for label, key in (("static file (generator ceiling)", "generator_ceiling"), ("distinct addresses", "distinct"),
                       ("one address repeated", "duplicate")):
        row = data[key]
        lines.append(f"| {label} | {row['requests']} | {row['rps']:.0f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | "
                     f"{row.get('rows', '-')} | {row.get('expected_rows', '-')} | {row['statuses']} |")
    return lines


def soak_body(data) -> list[str]:
    lines = [
        f"{data['seconds']} s of mixed load (pages, search, static, signups) with a background send of "
        f"{data['recipients']} recipients ({data['sent']} deliveries sent, send status `{data['send_status']}`).",
        "",
        f"- requests: {data['requests']}, errors: {data['errors']} (rate {data['error_rate']:.4%}), "
        f"statuses: {data['statuses']}",
        f"- web RSS growth: {data['growth']['web']:+.1%}; worker RSS growth: {data['growth']['worker']:+.1%} "
        "(first sample after 30 s to the last)",
        "",
        "| t (s) | web RSS MiB | worker RSS MiB | messages at the sink |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for sample in data["samples"]:
        lines.append(f"| {sample['t']} | {sample['web_kib'] / 1024:.1f} | {sample['worker_kib'] / 1024:.1f} | "
                     f"{sample['sent']} |")
    return lines


def text_section(title: str, name: str) -> list[str]:
    path = RESULTS / f"{name}.txt"
    lines = [f"## {title}", ""]
    if not path.exists():
        return [*lines, "Not run.", ""]
    tail = [line for line in path.read_text().splitlines() if line.strip()][-12:]
    return [*lines, "```", *tail, "```", ""]


def main() -> None:
    load_average = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    lines = [
        "# Benchmark results",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.node()}: {os.cpu_count()} CPU cores, "
        f"Python {platform.python_version()}, load average at the end {load_average}. Figures are only comparable "
        "as ratios within one run.",
        "",
        *section("Page serving (`bench/pages.py`)", load("pages"), pages_body),
        *section("Demo size and scale size (`bench/scale.py`)", load("scale"), scale_body),
        *section("Subscribe endpoint (`bench/subscribe.py`)", load("subscribe"), subscribe_body),
        *section("Soak (`bench/soak.py`)", load("soak"), soak_body),
        *text_section("Newsletter delivery (`bench/send.py`)", "send"),
        *text_section("Mailchimp sync (`bench/mailchimp_sync.py`)", "mailchimp_sync"),
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "results.md").write_text("\n".join(lines))
    print(f"Wrote {RESULTS / 'results.md'}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Summarises the schemathesis passes of scripts/fuzz.sh.

Reads every `<pass>.ndjson` (event stream) and `<pass>.junit.xml` in the report folder given as
the only argument, prints cases per pass and phase, statuses seen, failures (operation, check,
first lines of the message) and tool errors, and exits 1 when any pass failed or errored.
"""

import base64
import collections
import json
import pathlib
import sys
import xml.etree.ElementTree as ElementTree


def rejection(response) -> str | None:
    """The first field and reason of a 400/422 problem answer."""
    if not response or response.get("status_code") not in (400, 422):
        return None
    content = response.get("content") or {}
    try:
        problem = json.loads(base64.b64decode(content["$base64"]).decode()) if "$base64" in content else json.loads(content.get("string", ""))
    except (ValueError, KeyError, TypeError):
        return None
    errors = problem.get("errors") or [{"field": "-", "reason": problem.get("detail", "")}]
    return f'{response["status_code"]} {errors[0].get("field")}: {str(errors[0].get("reason"))[:70]}'


def cases_of(ndjson: pathlib.Path, hints: collections.defaultdict):
    """(cases per phase, operations tested, statuses answered, non-fatal errors) of one pass;
    `hints` collects why the API refused data generated as valid for the document."""
    per_phase = collections.Counter()
    operations = set()
    statuses = collections.Counter()
    errors = []
    seen = set()
    for line in ndjson.read_text().splitlines():
        event = json.loads(line)
        if "ScenarioFinished" in event:
            scenario = event["ScenarioFinished"]
            recorder = scenario.get("recorder", {})
            label = recorder.get("label", "?")
            interactions = recorder.get("interactions") or {}
            for case_id, case in recorder.get("cases", {}).items():
                if case_id in seen:
                    continue
                seen.add(case_id)
                per_phase[scenario.get("phase", "?")] += 1
                operations.add(label)
                value = case.get("value") or {}
                mode = ((value.get("meta") or {}).get("generation") or {}).get("mode")
                interaction = interactions.get(case_id)
                reason = rejection(interaction.get("response")) if mode == "positive" and isinstance(interaction, dict) else None
                if reason:
                    hints[f'{value.get("method")} {value.get("path")}'][reason] += 1
            for interactions in recorder.get("interactions", {}).values():
                response = (interactions or {}).get("response") if isinstance(interactions, dict) else None
                if response and "status_code" in response:
                    statuses[response["status_code"]] += 1
        elif "NonFatalError" in event:
            error = event["NonFatalError"]
            errors.append(f'{error.get("label")}: {error["value"].get("type")}: {error["value"].get("message")}')
        elif "FatalError" in event:
            errors.append(f'fatal: {json.dumps(event["FatalError"])[:300]}')
    return per_phase, operations, statuses, errors


def failures_of(junit: pathlib.Path):
    failures = []
    if not junit.exists():
        return failures
    for testcase in ElementTree.parse(junit).getroot().iter("testcase"):
        for kind in ("failure", "error"):
            for element in testcase.findall(kind):
                text = (element.text or element.get("message") or "").strip()
                lines = [line for line in text.splitlines() if line.strip()][:6]
                lines += [line for line in text.splitlines() if line.strip().startswith("curl ")][:1]
                failures.append((kind, testcase.get("name"), element.get("message"), lines))
    return failures


def main() -> int:
    folder = pathlib.Path(sys.argv[1])
    total = 0
    bad = 0
    hints = collections.defaultdict(collections.Counter)
    print("=== fuzzing summary ===")
    for ndjson in sorted(folder.glob("*.ndjson")):
        name = ndjson.name[: -len(".ndjson")]
        per_phase, operations, statuses, errors = cases_of(ndjson, hints)
        failures = failures_of(folder / f"{name}.junit.xml")
        count = sum(per_phase.values())
        total += count
        phases = ", ".join(f"{phase} {n}" for phase, n in sorted(per_phase.items()))
        print(f"{name}: {count} cases over {len(operations)} operations ({phases})")
        if statuses:
            print("  statuses: " + ", ".join(f"{code}×{n}" for code, n in sorted(statuses.items())))
        for kind, operation, code, lines in failures:
            bad += 1
            print(f"  {kind.upper()} {operation} [{code}]")
            for line in lines:
                print(f"      {line}")
        for error in errors:
            print(f"  TOOL ERROR {error}")
        if errors and not any(kind == "error" for kind, *_ in failures):
            bad += len(errors)
    if hints:
        print("document hints (not failures): data valid for the document that the API refused, most common reason per operation")
        for operation, reasons in sorted(hints.items()):
            reason, count = reasons.most_common(1)[0]
            print(f"  {operation}: {count}× {reason}")
    print(f"total: {total} generated cases; {bad} failure(s)/error(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

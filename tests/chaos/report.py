"""The chaos suite's table: for each fault, requests attempted, accepted, lost, duplicated, p99 and max latency,
503s, other refusals (4xx and 5xx but 503: a claim of a request its claimer was not yet told of is 404) and
requests without an HTTP answer."""

from tests.chaos.load import Answer


def percentile(values: list[float], share: float) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * share))] if values else 0.0


def table(answers: list[Answer], lost: list[tuple], duplicated: list[tuple]) -> str:
    faults = list(dict.fromkeys(answer.fault for answer in answers))
    header = f"{'fault':<28}{'attempted':>10}{'accepted':>10}{'lost':>6}{'duplicated':>12}{'p99 s':>8}{'max s':>8}"
    lines = [header + f"{'503s':>6}{'other':>7}{'no answer':>11}", "-" * (len(header) + 24)]
    for fault in faults:
        row = [answer for answer in answers if answer.fault == fault]
        seconds = [answer.seconds for answer in row if answer.status]
        lines.append(
            f"{fault:<28}{len(row):>10}{sum(answer.accepted for answer in row):>10}"
            f"{sum(entry[0] == fault for entry in lost):>6}{sum(entry[0] == fault for entry in duplicated):>12}"
            f"{percentile(seconds, 0.99):>8.2f}{max(seconds, default=0):>8.2f}"
            f"{sum(answer.status == 503 for answer in row):>6}"
            f"{sum(answer.status >= 300 and answer.status != 503 for answer in row):>7}"
            f"{sum(answer.status == 0 for answer in row):>11}"
        )
    return "\n".join(lines)

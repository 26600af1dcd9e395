# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scaling simulation's outputs: a JSON-ready summary, a Markdown report and a PNG chart.

The chart needs matplotlib (requirements.txt); it is imported only when a chart is drawn.
"""

from __future__ import annotations

import json
from pathlib import Path


def inputs(traffic: dict, spike: dict, group: dict, promotion: dict | None) -> dict:
    """What the report states it was computed from (the playbook and the command alike)."""
    return {"baseline requests/s by hour (UTC)": list(traffic["hourly_rps"]), "spike": spike,
            "requests/s an instance serves at the target latency": float(traffic["instance_rps"]),
            "launch to in service (minutes)": int(traffic["ready_minutes"]),
            "group": group, "promotion (schedule strategy)": promotion}


def summaries(results: dict) -> dict:
    return {name: result.summary() for name, result in results.items()}


def markdown(title: str, inputs: dict, results: dict) -> str:
    rows = summaries(results)
    lines = [f"# {title}", "", "## Inputs", ""]
    lines += [f"- {key}: {value}" for key, value in inputs.items()]
    lines += ["", "## Strategies side by side", "",
              "| strategy | requests at risk | share at risk | minutes short | worst minute unserved | peak instances | "
              "fewest | utilisation | instance-hours | EC2 cost (USD) |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, row in rows.items():
        share = row["requests_at_risk"] / row["requests"] if row["requests"] else 0.0
        lines.append(f"| {name} | {row['requests_at_risk']:,} | {share:.2%} | {row['minutes_short']} | "
                     f"{row['worst_minute_unserved']:.0%} | "
                     f"{row['peak_instances']} | {row['min_instances']} | {row['utilisation']:.0%} | "
                     f"{row['instance_hours']:,.1f} | {row['ec2_cost']:,.2f} |")
    lines += ["", "Requests at risk: demand above the serving instances' capacity, minute by minute (what the "
              "fleet could not serve at the target latency: slow or failed). Utilisation: requests served over "
              "the capacity of serving instances. EC2 cost: instance-hours (launch to termination, warm-up "
              "included) x the on-demand price, over the simulated days only.", ""]
    return "\n".join(lines)


def chart(path: str | Path, title: str, results: dict, zoom: tuple[int, int] | None = None) -> Path:
    """Demand and capacity (requests/s) above, instances below, one line per strategy; with zoom
    (first and last minute), a third panel of demand and capacity over those minutes (the spike's opening)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - requirements.txt installs it
        raise RuntimeError("the chart needs matplotlib (pip install -r requirements.txt)") from exc
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    first = next(iter(results.values()))
    hours = [m / 60 for m in range(len(first.demand))]
    rows = 3 if zoom else 2
    figure, axes = plt.subplots(rows, 1, figsize=(11, 10 if zoom else 7), height_ratios=(3, 2, 3)[:rows])
    top, bottom = axes[0], axes[1]
    top.fill_between(hours, first.demand, color="#d62728", alpha=0.15, step="post")
    top.plot(hours, first.demand, color="#d62728", linewidth=1.2, label="demand", drawstyle="steps-post")
    colours = ("#7f7f7f", "#1f77b4", "#2ca02c", "#9467bd")
    for colour, (name, result) in zip(colours, results.items(), strict=False):
        top.plot(hours, result.capacity, color=colour, linewidth=1.0, label=f"capacity: {name}", drawstyle="steps-post")
        bottom.plot(hours, result.instances, color=colour, linewidth=1.0, label=name, drawstyle="steps-post")
    top.set_ylabel("requests / s")
    top.set_title(title)
    top.legend(loc="upper left", fontsize=8)
    top.grid(alpha=0.3)
    if zoom:
        low, high = max(0, zoom[0]), min(len(first.demand), zoom[1])
        minutes = list(range(low - zoom[0], high - zoom[0]))
        close = axes[2]
        close.fill_between(minutes, first.demand[low:high], color="#d62728", alpha=0.15, step="post")
        close.plot(minutes, first.demand[low:high], color="#d62728", linewidth=1.4, label="demand", drawstyle="steps-post")
        for colour, (name, result) in zip(colours, results.items(), strict=False):
            close.plot(minutes, result.capacity[low:high], color=colour, linewidth=1.2, label=f"capacity: {name}",
                       drawstyle="steps-post")
        close.set_xlabel(f"minutes from hour {zoom[0] / 60:g} (the spike's opening; red above a line: requests at risk)")
        close.set_ylabel("requests / s")
        close.legend(loc="upper left", fontsize=8)
        close.grid(alpha=0.3)
    bottom.set_ylabel("instances (billed)")
    bottom.set_xlabel("hours from the start of the simulation")
    bottom.legend(loc="upper left", fontsize=8)
    bottom.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def write(directory: str | Path, stem: str, title: str, inputs: dict, results: dict, with_chart: bool = True,
          opening: int | None = None) -> dict:
    """<stem>.md, <stem>.json and (with_chart) <stem>.png in directory; returns their paths. With
    opening (the spike's first minute), the chart zooms on the hour either side of it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = {"markdown": directory / f"{stem}.md", "json": directory / f"{stem}.json"}
    text = markdown(title, inputs, results)
    if with_chart:
        zoom = None if opening is None else (opening - 60, opening + 60)
        files["chart"] = chart(directory / f"{stem}.png", title, results, zoom)
        text += f"\n![{title}]({stem}.png)\n"
    files["markdown"].write_text(text)
    files["json"].write_text(json.dumps({"title": title, "inputs": inputs, "strategies": summaries(results)},
                                        indent=2, sort_keys=False) + "\n")
    return {key: str(value) for key, value in files.items()}

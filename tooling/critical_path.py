"""The longest chain of tasks a compiled Vertex template must run one after another.

Pure logic over the compiled pipeline spec (`build/vertex/<pipeline>.yaml`): every task of a
DAG waits for its `dependentTasks`; a task whose component is itself a DAG (a condition, the
branches of an if/else, a sub-pipeline, the exit handler's body) costs the longest chain inside
it, and of an if/else's branches only one runs, so the longer one counts. What a step costs in
time and money comes from `Figures` (bench/vertex_plan.py states their sources).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["task", "batch"]

#: The GCPC launcher a Dataproc Serverless batch task runs (google_cloud_pipeline_components
#: container/v1/dataproc/create_pyspark_batch/launcher.py).
BATCH_LAUNCHER = "dataproc.create_pyspark_batch"


@dataclass(frozen=True)
class Figures:
    """What one step costs: seconds of a light task and of a batch, and their prices."""

    task_seconds: float
    batch_startup_seconds: float
    batch_run_seconds: float
    batch_dcu: float
    batch_min_seconds: float
    dcu_hour_usd: float
    task_hour_usd: float
    run_fee_usd: float

    def seconds(self, kind: Kind) -> float:
        """Wall seconds of one step: a batch also pays the task that launches and polls it."""
        if kind == "batch":
            return self.task_seconds + self.batch_startup_seconds + self.batch_run_seconds
        return self.task_seconds

    def usd(self, kind: Kind) -> float:
        """Cost of one step: the task's machine time, and a batch's DCUs (minimum charged)."""
        cost = self.seconds(kind) * self.task_hour_usd / 3600
        if kind == "batch":
            billed = max(self.batch_run_seconds, self.batch_min_seconds)
            cost += self.batch_dcu * billed * self.dcu_hour_usd / 3600
        return cost


@dataclass(frozen=True)
class Step:
    """One executed task: its name as the Vertex console shows it, and whether it is a batch."""

    name: str
    kind: Kind


@dataclass(frozen=True)
class Plan:
    """A pipeline's critical path and the tasks a run executes (longer branch of each if/else)."""

    pipeline: str
    path: tuple[Step, ...]
    executed: tuple[Step, ...]
    declared: int

    def batches(self, steps: tuple[Step, ...]) -> int:
        return sum(1 for s in steps if s.kind == "batch")

    def wall_seconds(self, figures: Figures) -> float:
        return sum(figures.seconds(s.kind) for s in self.path)

    def cost_usd(self, figures: Figures) -> float:
        return figures.run_fee_usd + sum(figures.usd(s.kind) for s in self.executed)


class _Walker:
    def __init__(self, spec: dict[str, Any], figures: Figures) -> None:
        self.spec = spec
        self.figures = figures
        self.components = spec["components"]
        self.executors = spec.get("deploymentSpec", {}).get("executors", {})

    def kind(self, component: dict[str, Any]) -> Kind:
        container = self.executors.get(component.get("executorLabel", ""), {}).get("container", {})
        words = " ".join(map(str, [*container.get("command", []), *container.get("args", [])]))
        return "batch" if BATCH_LAUNCHER in words else "task"

    def weight(self, steps: tuple[Step, ...]) -> tuple[float, int]:
        return (sum(self.figures.seconds(s.kind) for s in steps), len(steps))

    def task_steps(self, task: dict[str, Any]) -> tuple[tuple[Step, ...], tuple[Step, ...]]:
        """(critical chain, executed steps) of one task of a DAG."""
        component = self.components[task["componentRef"]["name"]]
        if "dag" in component:
            return self.dag(component["dag"])
        step = (Step(task["taskInfo"]["name"], self.kind(component)),)
        return step, step

    def dag(self, dag: dict[str, Any]) -> tuple[tuple[Step, ...], tuple[Step, ...]]:
        tasks = dag.get("tasks", {})
        inner = {key: self.task_steps(task) for key, task in tasks.items()}
        memo: dict[str, tuple[Step, ...]] = {}

        def longest(key: str) -> tuple[Step, ...]:
            if key not in memo:
                before = [longest(dep) for dep in tasks[key].get("dependentTasks", [])]
                memo[key] = max(before, key=self.weight, default=()) + inner[key][0]
            return memo[key]

        chain = max((longest(key) for key in tasks), key=self.weight, default=())
        conditions = [key for key, task in tasks.items() if task.get("triggerPolicy", {})]
        if conditions and len(conditions) == len(tasks):
            # an if/else: one branch runs; count the one with the longest chain as executed
            chosen = max(conditions, key=lambda key: self.weight(inner[key][0]))
            return chain, inner[chosen][1]
        executed = tuple(step for key in tasks for step in inner[key][1])
        return chain, executed


def plan(spec: dict[str, Any], figures: Figures) -> Plan:
    """The critical path and executed steps of a compiled pipeline spec."""
    walker = _Walker(spec, figures)
    path, executed = walker.dag(spec["root"]["dag"])
    dags = [spec["root"]["dag"], *(c["dag"] for c in spec["components"].values() if "dag" in c)]
    declared = sum(
        1
        for dag in dags
        for task in dag.get("tasks", {}).values()
        if "dag" not in spec["components"][task["componentRef"]["name"]]
    )
    return Plan(spec["pipelineInfo"]["name"], path, executed, declared)

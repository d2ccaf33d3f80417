// The live QPS chart of a run (uPlot: small and fast with frequent redraws): the baseline band,
// the fault window shaded, abort/recovery markers, and error rate and p99 latency on their own
// axes. A text summary beside it gives screen-reader users the same facts.
import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { dipOf, type ChartModel } from "../lib/series";

function drawMarks(model: ChartModel) {
  return (u: uPlot) => {
    const { ctx, bbox } = u;
    const xPos = (ts: number) => u.valToPos(ts, "x", true);
    ctx.save();
    if (model.faultStart !== null) {
      const x0 = Math.max(bbox.left, xPos(model.faultStart));
      const end = model.faultEnd ?? model.x[model.x.length - 1] ?? model.faultStart;
      const x1 = Math.min(bbox.left + bbox.width, xPos(end));
      ctx.fillStyle = "rgba(220, 60, 60, 0.12)";
      ctx.fillRect(x0, bbox.top, Math.max(0, x1 - x0), bbox.height);
    }
    const line = (ts: number | null, colour: string) => {
      if (ts === null) return;
      ctx.strokeStyle = colour;
      ctx.lineWidth = 2;
      ctx.setLineDash([6, 4]);
      ctx.beginPath();
      ctx.moveTo(xPos(ts), bbox.top);
      ctx.lineTo(xPos(ts), bbox.top + bbox.height);
      ctx.stroke();
    };
    line(model.abortAt, "#b00020");
    line(model.recoveredAt, "#1b7f3b");
    ctx.restore();
  };
}

function options(model: ChartModel, width: number): uPlot.Options {
  const band = model.baseline;
  return {
    width,
    height: 300,
    scales: {
      x: { time: true },
      qps: { auto: true },
      pct: { range: [0, 100] },
      ms: { auto: true },
    },
    series: [
      {},
      { label: "QPS", scale: "qps", stroke: "#1f5fbf", width: 2 },
      {
        label: "baseline low",
        scale: "qps",
        stroke: "rgba(31,95,191,0.3)",
        dash: [4, 4],
        points: { show: false },
      },
      {
        label: "baseline high",
        scale: "qps",
        stroke: "rgba(31,95,191,0.3)",
        dash: [4, 4],
        points: { show: false },
      },
      { label: "errors %", scale: "pct", stroke: "#c0392b", width: 1 },
      { label: "p99 ms", scale: "ms", stroke: "#8e44ad", width: 1 },
    ],
    bands: band ? [{ series: [3, 2], fill: "rgba(31,95,191,0.10)" }] : [],
    axes: [
      {},
      { scale: "qps", label: "QPS" },
      { scale: "pct", side: 1, label: "errors %", grid: { show: false } },
      { scale: "ms", side: 1, label: "p99 ms", grid: { show: false } },
    ],
    hooks: { draw: [drawMarks(model)] },
  };
}

function data(model: ChartModel): uPlot.AlignedData {
  const band = model.baseline;
  const flat = (v: number | undefined) => model.x.map(() => v ?? null);
  return [model.x, model.qps, flat(band?.low), flat(band?.high), model.errorPct, model.p99];
}

export function QpsChart({ model, probe }: { model: ChartModel; probe?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    // Follow the container's width, so the chart fits phones and resized windows.
    const target = box.current;
    if (!target || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(([entry]) =>
      setWidth(Math.round(entry?.contentRect.width ?? 0)),
    );
    observer.observe(target);
    return () => observer.disconnect();
  }, []);
  useEffect(() => {
    const target = box.current;
    if (!target || model.x.length === 0) return;
    const plot = new uPlot(
      options(model, Math.max(280, width || target.clientWidth || 800)),
      data(model),
      target,
    );
    return () => plot.destroy();
  }, [model, width]);
  const dip = dipOf(model);
  const summary =
    model.x.length === 0
      ? "No observations yet."
      : (probe ? `Probe ${probe}: ` : "") +
        `${model.x.length} samples; latest ${model.qps[model.qps.length - 1]!.toFixed(1)} QPS` +
        (model.baseline ? `; baseline ${model.baseline.median.toFixed(1)} QPS` : "") +
        (dip
          ? `; lowest sample ${dip.qps.toFixed(1)} QPS, ${(dip.ts - (model.faultStart ?? dip.ts)).toFixed(1)} s after the fault started`
          : "") +
        (model.abortAt !== null ? "; aborted" : "") +
        (model.recoveredAt !== null ? "; recovered" : "");
  return (
    <figure
      className="chart"
      data-points={model.x.length}
      data-probe={probe}
      aria-label={probe ? `QPS of probe ${probe} over time` : "QPS over time"}
    >
      <div ref={box} className="chart-canvas" />
      <figcaption>
        {summary}
        <span className="legend">
          <span className="swatch fault" /> fault window <span className="swatch band" /> baseline
          band <span className="swatch abort" /> abort <span className="swatch recovered" />{" "}
          recovered
        </span>
      </figcaption>
    </figure>
  );
}

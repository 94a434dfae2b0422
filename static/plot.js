// A small live line plot on a <canvas>, in plain JavaScript: value against
// time, with axes, tick labels and axis titles. The time window suits the
// rate: it holds about `points` messages (2 s apart: the last minute; 0.1 s
// apart: the last 10 s), and until that much has arrived the line spans the
// whole width instead of sitting in a corner. Redraws at most once per
// animation frame, however fast values arrive.
"use strict";

function LivePlot(canvas, options) {
  if (typeof options === "number") { options = {points: options}; }  // LivePlot(canvas, 120): 120 values in view
  options = options || {};
  this.canvas = canvas;
  this.points = options.points || 30;          // messages in a full window
  this.minWindow = options.minWindow || 5;     // seconds
  this.maxWindow = options.maxWindow || 300;   // seconds
  this.yLabel = options.yLabel || "value";
  this.xLabel = "time (s, 0 = now)";
  this.samples = [];  // {t: seconds (performance.now), v: value}
  this.scheduled = false;
  this.drawCount = 0; // read by the browser tests: proves the plot draws
  this.windowSeconds = this.minWindow;
}

// Typical seconds between two values: the median of the recent gaps.
LivePlot.prototype.gap = function () {
  var s = this.samples, gaps = [];
  for (var i = Math.max(1, s.length - 10); i < s.length; i++) { gaps.push(s[i].t - s[i - 1].t); }
  if (gaps.length === 0) { return 1; }
  gaps.sort(function (a, b) { return a - b; });
  return Math.max(gaps[Math.floor(gaps.length / 2)], 0.001);
};

LivePlot.prototype.add = function (value) {
  var now = performance.now() / 1000;
  this.samples.push({t: now, v: value});
  this.windowSeconds = Math.min(this.maxWindow, Math.max(this.minWindow, this.points * this.gap()));
  // Keep what the widest window could show, and never more than a few thousand points.
  while (this.samples.length > 2 && (now - this.samples[0].t > this.maxWindow || this.samples.length > 5000)) {
    this.samples.shift();
  }
  if (!this.scheduled) {
    this.scheduled = true;
    var self = this;
    window.requestAnimationFrame(function () { self.scheduled = false; self.draw(); });
  }
};

// 1, 2 or 5 times a power of ten: about `count` ticks over `span`.
function niceStep(span, count) {
  var raw = span / Math.max(count, 1);
  var power = Math.pow(10, Math.floor(Math.log(raw) / Math.LN10));
  var steps = [1, 2, 5, 10];
  for (var i = 0; i < steps.length; i++) { if (steps[i] * power >= raw) { return steps[i] * power; } }
  return 10 * power;
}

function label(value) { return String(+value.toFixed(3)); }

LivePlot.prototype.draw = function () {
  var canvas = this.canvas;
  // Draw at the size the page gives the canvas, sharp on high-density screens.
  var ratio = window.devicePixelRatio || 1;
  var cssWidth = canvas.clientWidth || canvas.width, cssHeight = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(cssWidth * ratio) || canvas.height !== Math.round(cssHeight * ratio)) {
    canvas.width = Math.round(cssWidth * ratio);
    canvas.height = Math.round(cssHeight * ratio);
  }
  var ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  var w = cssWidth, h = cssHeight;
  var left = 52, right = 10, top = 8, bottom = 34;
  var plotW = w - left - right, plotH = h - top - bottom;
  ctx.clearRect(0, 0, w, h);
  ctx.font = "11px sans-serif";
  ctx.fillStyle = "#333";

  var now = performance.now() / 1000;
  var s = this.samples;
  var shown = s.filter(function (p) { return now - p.t <= this.windowSeconds; }, this);
  // Until a full window has arrived, the x axis spans what there is (at least two gaps).
  var span = this.windowSeconds;
  if (shown.length > 0) {
    span = Math.min(this.windowSeconds, Math.max(now - shown[0].t, 2 * this.gap(), 1));
  }
  var min = Infinity, max = -Infinity;
  shown.forEach(function (p) { min = Math.min(min, p.v); max = Math.max(max, p.v); });
  if (!isFinite(min)) { min = 0; max = 1; }
  if (min === max) { min -= 1; max += 1; }
  var yStep = niceStep(max - min, 4);
  min = Math.floor(min / yStep) * yStep;
  max = Math.ceil(max / yStep) * yStep;
  var xOf = function (t) { return left + plotW * (1 - (now - t) / span); };
  var yOf = function (v) { return top + plotH * (1 - (v - min) / (max - min)); };

  // Grid, ticks and tick labels.
  ctx.strokeStyle = "#e4e4e4";
  ctx.lineWidth = 1;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (var v = min; v <= max + yStep / 2; v += yStep) {
    var y = Math.round(yOf(v)) + 0.5;
    ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + plotW, y); ctx.stroke();
    ctx.fillText(label(v), left - 6, y);
  }
  var xStep = niceStep(span, 5);
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (var ago = 0; ago <= span + 1e-9; ago += xStep) {
    var x = Math.round(left + plotW * (1 - ago / span)) + 0.5;
    ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + plotH); ctx.stroke();
    ctx.fillText(ago === 0 ? "0" : "-" + label(ago), x, top + plotH + 4);
  }
  // Axes.
  ctx.strokeStyle = "#333";
  ctx.beginPath();
  ctx.moveTo(left + 0.5, top); ctx.lineTo(left + 0.5, top + plotH + 0.5); ctx.lineTo(left + plotW, top + plotH + 0.5);
  ctx.stroke();
  // Axis titles.
  ctx.fillText(this.xLabel, left + plotW / 2, h - 13);
  ctx.save();
  ctx.translate(11, top + plotH / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "middle";
  ctx.fillText(this.yLabel, 0, 0);
  ctx.restore();

  // The values: a line, and a dot on each (a lone first value shows too).
  ctx.save();
  ctx.beginPath(); ctx.rect(left, top, plotW, plotH); ctx.clip();
  ctx.strokeStyle = ctx.fillStyle = "#1f77b4";
  ctx.lineWidth = 2;
  ctx.beginPath();
  shown.forEach(function (p, i) {
    if (i === 0) { ctx.moveTo(xOf(p.t), yOf(p.v)); } else { ctx.lineTo(xOf(p.t), yOf(p.v)); }
  });
  ctx.stroke();
  if (shown.length <= 100) {
    shown.forEach(function (p) { ctx.beginPath(); ctx.arc(xOf(p.t), yOf(p.v), 3, 0, 2 * Math.PI); ctx.fill(); });
  }
  ctx.restore();
  this.drawCount += 1;
};

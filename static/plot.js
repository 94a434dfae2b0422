// A tiny live line plot on a <canvas>: keeps the last `capacity` values and
// redraws at most once per animation frame, however fast values arrive.
"use strict";

function LivePlot(canvas, capacity) {
  this.canvas = canvas;
  this.capacity = capacity || 300;
  this.values = [];
  this.scheduled = false;
  this.drawCount = 0; // read by the browser tests: proves the plot draws
}

LivePlot.prototype.add = function (value) {
  this.values.push(value);
  if (this.values.length > this.capacity) { this.values.shift(); }
  if (!this.scheduled) {
    this.scheduled = true;
    var self = this;
    window.requestAnimationFrame(function () { self.scheduled = false; self.draw(); });
  }
};

LivePlot.prototype.draw = function () {
  var ctx = this.canvas.getContext("2d");
  var w = this.canvas.width, h = this.canvas.height, pad = 24;
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = "#ccc";
  ctx.strokeRect(pad, 4, w - pad - 4, h - pad - 4);
  var v = this.values;
  if (v.length === 0) { return; }
  var min = Math.min.apply(null, v), max = Math.max.apply(null, v);
  if (min === max) { min -= 1; max += 1; }
  ctx.fillStyle = "#333";
  ctx.font = "10px sans-serif";
  ctx.fillText(String(+max.toFixed(3)), 2, 12);
  ctx.fillText(String(+min.toFixed(3)), 2, h - pad);
  ctx.strokeStyle = "#1f77b4";
  ctx.lineWidth = 2;
  ctx.beginPath();
  for (var i = 0; i < v.length; i++) {
    var x = pad + (w - pad - 8) * (v.length === 1 ? 1 : i / (this.capacity - 1));
    var y = 4 + (h - pad - 8) * (1 - (v[i] - min) / (max - min));
    if (i === 0) { ctx.moveTo(x, y); } else { ctx.lineTo(x, y); }
  }
  ctx.stroke();
  this.drawCount += 1;
};

// The step-through page's script. It computes nothing: every number and every text comes from
// Python, in the JSON above. A step is shown by giving each box, op and arrow the state and the
// texts of its latest event at or before that step.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("steps-data").textContent);
  var steps = data.steps;
  var graph = document.getElementById("graph");
  var svg = graph.querySelector("svg");
  var STATES = ["unreached", "partial", "current", "done", "target"];
  var elements = {};  // id -> {g, data, grad, shape, events}
  Object.keys(data.elements).forEach(function (id) {
    var g = svg.getElementById(id);
    if (!g) return;
    elements[id] = {
      g: g,
      data: g.querySelector("text.data"),
      grad: g.querySelector("text.grad"),
      shape: g.querySelector("path, polygon, ellipse"),
      events: data.elements[id],
    };
  });
  var slider = document.getElementById("slider");
  slider.max = String(steps.length - 1);
  var current = 0;

  function eventAt(events, k) {
    var found = null;
    for (var i = 0; i < events.length && events[i][0] <= k; i++) {
      found = events[i];
    }
    return found;
  }

  function latest(events, k, field) {
    // The newest value of one field (2 data, 3 grad, 4 fill, 5 exact) at or before step k.
    var value = null;
    for (var i = 0; i < events.length && events[i][0] <= k; i++) {
      if (events[i].length > field && events[i][field] !== null) value = events[i][field];
    }
    return value;
  }

  function show(k) {
    k = Math.max(0, Math.min(steps.length - 1, k | 0));
    current = k;
    var step = steps[k];
    Object.keys(elements).forEach(function (id) {
      var el = elements[id];
      var ev = eventAt(el.events, k);
      STATES.forEach(function (s) { el.g.classList.remove(s); });
      if (ev) el.g.classList.add(ev[1]);
      var text = latest(el.events, k, 2);
      if (el.data && text !== null) el.data.textContent = text;
      text = latest(el.events, k, 3);
      if (el.grad && text !== null) el.grad.textContent = text;
      var exact = latest(el.events, k, 5);
      if (el.grad) el.grad.setAttribute("data-exact", exact === null ? "" : exact);
      var fill = latest(el.events, k, 4);
      if (el.shape && fill !== null) el.shape.setAttribute("fill", fill);
    });
    step.targets.forEach(function (id) {
      if (elements[id]) elements[id].g.classList.add("target");
    });
    document.getElementById("step-title").textContent = step.title;
    document.getElementById("step-caption").textContent = step.caption;
    var list = document.getElementById("step-lines");
    list.textContent = "";
    step.lines.forEach(function (line) {
      var li = document.createElement("li");
      var text = document.createElement("span");
      text.className = "text";
      text.textContent = line.text;
      li.appendChild(text);
      if (line.why) {
        var why = document.createElement("span");
        why.className = "why";
        why.textContent = line.why;
        li.appendChild(why);
      }
      list.appendChild(li);
    });
    slider.value = String(k);
    // The step's own words ("backward 4 of 6"), numbered as the panel's title is.
    slider.setAttribute("aria-valuetext", step.counter);
    document.getElementById("counter").textContent = step.counter;
    document.body.setAttribute("data-step", String(k));
    var hash = "#step=" + k;
    if (location.hash !== hash) {
      try {
        history.replaceState(null, "", hash);
      } catch (e) {
        // An iframe in Jupyter has no URL of its own to write to.
      }
    }
  }

  function fromHash() {
    var m = /step=(\d+)/.exec(location.hash);
    return m ? parseInt(m[1], 10) : 0;
  }

  document.getElementById("first").addEventListener("click", function () { show(0); });
  document.getElementById("prev").addEventListener("click", function () { show(current - 1); });
  document.getElementById("next").addEventListener("click", function () { show(current + 1); });
  document.getElementById("last").addEventListener("click", function () { show(steps.length - 1); });
  slider.addEventListener("input", function () { show(parseInt(slider.value, 10)); });
  document.getElementById("fit").addEventListener("change", function (e) {
    graph.classList.toggle("fit", e.target.checked);
  });
  document.addEventListener("keydown", function (e) {
    if (e.target === slider || e.altKey || e.ctrlKey || e.metaKey) return;
    var to = { ArrowLeft: current - 1, ArrowRight: current + 1, Home: 0, End: steps.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    show(to);
  });
  window.addEventListener("hashchange", function () { show(fromHash()); });

  // Clicking a box (or its op) shows that node's chain rule.
  svg.addEventListener("click", function (e) {
    var g = e.target.closest("g.node");
    if (!g) return;
    var id = g.id.replace(/_op$/, "");
    var text = data.explain[id];
    if (text === undefined) return;
    svg.querySelectorAll("g.picked").forEach(function (p) { p.classList.remove("picked"); });
    g.classList.add("picked");
    var title = g.querySelector("text");
    document.getElementById("explain-title").textContent =
      "The chain rule for " + (title ? title.textContent : id);
    document.getElementById("explain-text").textContent = text;
  });

  show(fromHash());
})();

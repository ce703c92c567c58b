// Draws the inventory report's charts (Chart.js) from the figures the page carries as JSON
// (#report-data, the report's snapshot). The tables beside the charts hold the same figures.
// No text is written here: the labels come from the snapshot (already translated) and from
// the page's data-text-* attributes.
(function () {
  "use strict";
  var page = document.querySelector("[data-report-charts]");
  var source = document.getElementById("report-data");
  if (!page || !source || typeof window.Chart === "undefined") { return; }
  var Chart = window.Chart;
  var data = JSON.parse(source.textContent);
  var text = page.dataset;
  var lang = document.documentElement.lang || undefined;
  var numbers = new Intl.NumberFormat(lang);
  var percent = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 });

  // The page's own font (a CJK-capable stack, see app.css) and colours.
  var style = window.getComputedStyle(document.body);
  Chart.defaults.font.family = style.fontFamily ||
    '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif';
  Chart.defaults.font.size = 12;
  Chart.defaults.color = "#475467";
  Chart.defaults.borderColor = "#eaecf0";
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation.duration = 300;
  if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
    Chart.defaults.animation = false;
  }

  var PRIMARY = "#1d5fa8";
  var PALETTE = ["#1d5fa8", "#12b76a", "#f79009", "#7a5af8", "#06aed4", "#ee46bc", "#d92d20",
                 "#667085", "#84cc16", "#175cd3"];
  // Colours that mean something: grades and severities as on the badges, sharing and status.
  var COLOURS = {
    grade: { 1: "#12b76a", 2: "#2e90fa", 3: "#f79009", 4: "#d92d20", 5: "#7a271a" },
    security_class: { general: "#2e90fa", important: "#f79009", core: "#d92d20" },
    sharing_type: { unconditional: "#12b76a", conditional: "#2e90fa", not_shared: "#98a2b3" },
    status: { draft: "#fdb022", registered: "#12b76a", deregistered: "#98a2b3" },
    severity: { 1: "#98a2b3", 2: "#2e90fa", 3: "#f79009", 4: "#d92d20" }
  };
  // How each breakdown is drawn; the others are horizontal bars.
  var KIND = { region: "column", grade: "doughnut", security_class: "doughnut",
               sharing_type: "doughnut", status: "doughnut" };
  // Axis labels longer than a line go on two lines, cut beyond (the tooltip and the table
  // show them whole); a Chinese character is as wide as two Latin letters.
  var LINE_WIDTH = 30;

  function format(value) { return numbers.format(value); }
  // "label: value" the way the language writes it (a full-width colon in Chinese).
  function labelled(label, value) {
    var pattern = text.textValue || "%(label)s: %(value)s";
    return pattern.replace("%(label)s", function () { return label; })
      .replace("%(value)s", function () { return format(value); });
  }
  function width(part) {
    return Array.from(part).reduce(function (sum, c) {
      return sum + (c.codePointAt(0) >= 0x2e80 ? 2 : 1);
    }, 0);
  }
  function cut(line, room) {
    var kept = "";
    Array.from(line).some(function (c) {
      if (width(kept + c) > room) { return true; }
      kept += c;
      return false;
    });
    return kept;
  }
  // A label as one line, or two (words kept whole where there are words).
  function wrap(label) {
    label = String(label);
    if (width(label) <= LINE_WIDTH) { return label; }
    var lines = [""];
    (label.match(/[\u2e80-\uffff]|[^\s\u2e80-\uffff]+|\s+/g) || []).forEach(function (part) {
      var last = lines.length - 1;
      if (/^\s+$/.test(part)) {
        if (lines[last]) { lines[last] += " "; }
      } else if (lines[last] && width(lines[last] + part) > LINE_WIDTH) {
        lines[last] = lines[last].trim();
        lines.push(part);
      } else {
        lines[last] += part;
      }
    });
    var second = lines.slice(1).join(" ").trim();
    if (lines.length > 2 || width(second) > LINE_WIDTH || width(lines[0]) > LINE_WIDTH) {
      second = cut(second, LINE_WIDTH - 1) + "…";
    }
    return [cut(lines[0], LINE_WIDTH), second];
  }
  function wraps(labels) {
    return labels.some(function (label) { return width(String(label)) > LINE_WIDTH; });
  }
  function colour(key, value, index) {
    var known = COLOURS[key] && COLOURS[key][value];
    return known || PALETTE[index % PALETTE.length];
  }
  function query(params) {
    return Object.keys(params).map(function (name) {
      return encodeURIComponent(name) + "=" + encodeURIComponent(params[name]);
    }).join("&");
  }
  // Where a click on a row leads: the same place as the row's link in the table.
  function drillHref(key, row) {
    if (key === "region" && row.drill) {
      return text.drillBase + "?" + query({ region: row.drill }) +
        (text.otherFilters ? "&" + text.otherFilters : "");
    }
    if ((key === "region" && row.value) || key === "holder") {
      return text.catalogUrl + "?" + query({ holder: row.value });
    }
    return null;
  }
  // Bars that lead somewhere show a hand and open their page when clicked.
  function linked(hrefs) {
    return {
      onHover: function (event, elements) {
        var href = elements.length ? hrefs[elements[0].index] : null;
        event.native.target.style.cursor = href ? "pointer" : "default";
      },
      onClick: function (event, elements) {
        var href = elements.length ? hrefs[elements[0].index] : null;
        if (href) { window.location.href = href; }
      }
    };
  }
  function merge(target) {
    for (var i = 1; i < arguments.length; i += 1) {
      var extra = arguments[i] || {};
      Object.keys(extra).forEach(function (name) { target[name] = extra[name]; });
    }
    return target;
  }
  function countTooltip(label) {
    return {
      callbacks: {
        label: function (item) {
          var value = item.chart.options.indexAxis === "y" ? item.parsed.x : item.parsed.y;
          return " " + labelled(label || item.dataset.label, value);
        }
      }
    };
  }
  function countAxis() {
    return {
      beginAtZero: true,
      ticks: { precision: 0, callback: function (value) { return format(value); } }
    };
  }
  function labelAxis() {
    return {
      grid: { display: false },
      ticks: {
        autoSkip: false,
        callback: function (value) { return wrap(this.getLabelForValue(value)); }
      }
    };
  }
  // The box's height for a horizontal bar chart of these labels (and room for a legend).
  function fitRows(canvas, labels, extra) {
    var row = wraps(labels) ? 38 : 28;
    canvas.parentNode.style.height = Math.max(140, row * (labels.length + (extra || 0)) + 48) + "px";
  }

  function bars(canvas, rows, options) {
    var horizontal = options.horizontal;
    var hrefs = rows.map(function (row) { return options.href ? options.href(row) : null; });
    if (horizontal) { fitRows(canvas, rows.map(function (row) { return row.label; })); }
    var scales = {};
    scales[horizontal ? "y" : "x"] = labelAxis();
    scales[horizontal ? "x" : "y"] = countAxis();
    if (!horizontal) {
      scales.x.ticks.maxRotation = 45;
      scales.x.ticks.autoSkip = true;
    }
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: rows.map(function (row) { return row.label; }),
        datasets: [{
          label: options.label,
          data: rows.map(function (row) { return row.count; }),
          backgroundColor: rows.map(function (row, index) {
            return options.colour ? options.colour(row, index) : PRIMARY;
          }),
          borderRadius: 3,
          maxBarThickness: horizontal ? 22 : 56
        }]
      },
      options: merge({
        indexAxis: horizontal ? "y" : "x",
        scales: scales,
        plugins: { legend: { display: false }, tooltip: countTooltip(options.label) }
      }, linked(hrefs))
    });
  }

  // Narrow: the legend goes below the ring, and the box grows to hold it.
  var LEGEND_BELOW = 460;
  function doughnutBox(canvas, boxWidth, n) {
    var below = boxWidth < LEGEND_BELOW;
    canvas.parentNode.style.height = below ? (200 + 24 * n) + "px" : "";
    return below ? "bottom" : "right";
  }

  function doughnut(canvas, key, rows) {
    var total = rows.reduce(function (sum, row) { return sum + row.count; }, 0);
    var position = doughnutBox(canvas, canvas.parentNode.clientWidth, rows.length);
    return new Chart(canvas, {
      type: "doughnut",
      data: {
        labels: rows.map(function (row) { return row.label; }),
        datasets: [{
          label: text.textAssets,
          data: rows.map(function (row) { return row.count; }),
          backgroundColor: rows.map(function (row, index) { return colour(key, row.value, index); }),
          borderColor: "#fff",
          borderWidth: 2
        }]
      },
      options: {
        cutout: "58%",
        layout: { padding: 4 },
        onResize: function (chart, size) {
          if ((size.width < LEGEND_BELOW) !== (chart.options.plugins.legend.position === "bottom")) {
            chart.options.plugins.legend.position = doughnutBox(canvas, size.width, rows.length);
            chart.update("none");
          }
        },
        plugins: {
          legend: {
            position: position,
            labels: {
              boxWidth: 12, boxHeight: 12, padding: 10,
              // Each slice's label with its count, so that the legend reads like the table.
              generateLabels: function (chart) {
                var items = Chart.overrides.doughnut.plugins.legend.labels.generateLabels(chart);
                items.forEach(function (item) {
                  item.text = item.text + "  " + format(rows[item.index].count);
                });
                return items;
              }
            }
          },
          tooltip: {
            callbacks: {
              label: function (item) {
                return " " + format(item.parsed) + " (" + percent.format(total ? item.parsed / total : 0) + ")";
              }
            }
          }
        }
      }
    });
  }

  function breakdownChart(canvas) {
    var key = canvas.dataset.breakdown;
    var breakdown = data.breakdowns.filter(function (b) { return b.key === key; })[0];
    if (!breakdown || !breakdown.rows.length) { return; }
    var rows = breakdown.rows;
    var kind = KIND[key] || "bar";
    if (kind === "doughnut") { return doughnut(canvas, key, rows); }
    // The region drill-down: columns of divisions; below a county, the institutions (long
    // names, no drill-down) as bars.
    var divisions = rows.some(function (row) { return row.drill; });
    var horizontal = kind !== "column" || !divisions || rows.length > 16;
    return bars(canvas, rows, {
      horizontal: horizontal,
      label: text.textAssets,
      href: function (row) { return drillHref(key, row); },
      colour: function (row) {
        // What the region level holds itself (no division below) stands apart.
        return key === "region" && !row.value ? "#98a2b3" : PRIMARY;
      }
    });
  }

  // Current findings by rule, one dataset per severity so that the legend explains the colours.
  function findingsChart(canvas) {
    var rows = data.findings;
    if (!rows.length) { return; }
    var severities = [];
    rows.forEach(function (row) {
      if (!severities.some(function (s) { return s.value === row.severity; })) {
        severities.push({ value: row.severity, label: row.severity_label });
      }
    });
    var hrefs = rows.map(function (row) { return text.findingsUrl + "?" + query({ rule: row.rule }); });
    fitRows(canvas, rows.map(function (row) { return row.label; }), 1);
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: rows.map(function (row) { return row.label; }),
        datasets: severities.map(function (severity) {
          return {
            label: severity.label,
            data: rows.map(function (row) { return row.severity === severity.value ? row.count : null; }),
            backgroundColor: COLOURS.severity[severity.value] || PRIMARY,
            borderRadius: 3,
            maxBarThickness: 22,
            grouped: false
          };
        })
      },
      options: merge({
        indexAxis: "y",
        scales: { x: countAxis(), y: labelAxis() },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12, boxHeight: 12 } },
          tooltip: countTooltip(text.textFindings)
        }
      }, linked(hrefs))
    });
  }

  function staleChart(canvas) {
    var rows = data.stale_institutions;
    if (!rows.length) { return; }
    return bars(canvas, rows, {
      horizontal: true,
      label: text.textOverdue,
      colour: function () { return COLOURS.severity[3]; },
      href: function (row) {
        return text.findingsUrl + "?" + query({ institution: row.value, rule: "stale" });
      }
    });
  }

  // Findings per inventory run, oldest first, by the day each run finished.
  function runsChart(canvas) {
    var rows = data.runs;
    if (!rows.length) { return; }
    // In the site's time zone, as the table beside it.
    var zone = text.timeZone || undefined;
    var full = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short", timeZone: zone });
    function when(row) { return row.finished_at ? new Date(row.finished_at) : null; }
    var dated = rows.map(when).filter(Boolean);
    function distinct(format) {
      var seen = {};
      dated.forEach(function (at) { seen[format.format(at)] = 1; });
      return Object.keys(seen).length;
    }
    var options = { month: "numeric", day: "numeric", timeZone: zone };
    if (distinct(new Intl.DateTimeFormat(lang, { year: "numeric", timeZone: zone })) > 1) {
      options.year = "numeric";
    }
    // Several runs on one day: their times tell them apart.
    if (distinct(new Intl.DateTimeFormat(lang, options)) < dated.length) {
      options.hour = "2-digit";
      options.minute = "2-digit";
    }
    var day = new Intl.DateTimeFormat(lang, options);
    function line(label, field, stroke, dashed) {
      return {
        label: label,
        data: rows.map(function (row) { return row[field]; }),
        borderColor: stroke,
        backgroundColor: stroke,
        borderDash: dashed ? [5, 4] : [],
        pointRadius: 3,
        cubicInterpolationMode: "monotone"
      };
    }
    return new Chart(canvas, {
      type: "line",
      data: {
        labels: rows.map(function (row) { var at = when(row); return at ? day.format(at) : ""; }),
        datasets: [
          line(text.textFound, "found", PRIMARY, false),
          line(text.textNew, "new", "#f79009", true),
          line(text.textResolved, "resolved", "#12b76a", true)
        ]
      },
      options: {
        interaction: { mode: "index", intersect: false },
        scales: { x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true } }, y: countAxis() },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12, boxHeight: 2 } },
          tooltip: {
            callbacks: {
              title: function (items) {
                var row = rows[items[0].dataIndex];
                var at = when(row);
                return [row.kind_label + " · " + row.scope_name, at ? full.format(at) : ""];
              },
              label: function (item) { return " " + labelled(item.dataset.label, item.parsed.y); }
            }
          }
        }
      }
    });
  }

  // Assets registered per month ("2025-03-01"), the month written the reader's way.
  function monthsChart(canvas) {
    var rows = data.registered_by_month;
    if (!rows.length) { return; }
    var month = new Intl.DateTimeFormat(lang, { year: "numeric", month: "short", timeZone: "UTC" });
    function label(row) {
      var parts = String(row.value).split("-");
      if (parts.length < 2) { return row.label; }
      return month.format(new Date(Date.UTC(Number(parts[0]), Number(parts[1]) - 1, 1)));
    }
    return new Chart(canvas, {
      type: rows.length > 18 ? "line" : "bar",
      data: {
        labels: rows.map(label),
        datasets: [{
          label: text.textAssets,
          data: rows.map(function (row) { return row.count; }),
          borderColor: PRIMARY,
          backgroundColor: rows.length > 18 ? "rgba(29, 95, 168, .12)" : PRIMARY,
          fill: true,
          borderRadius: 3,
          maxBarThickness: 40,
          pointRadius: 2,
          cubicInterpolationMode: "monotone"
        }]
      },
      options: {
        scales: {
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true } },
          y: countAxis()
        },
        plugins: { legend: { display: false }, tooltip: countTooltip(text.textAssets) }
      }
    });
  }

  var DRAW = { findings: findingsChart, stale: staleChart, runs: runsChart, months: monthsChart };
  page.querySelectorAll("canvas[data-breakdown]").forEach(breakdownChart);
  page.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var draw = DRAW[canvas.dataset.chart];
    if (draw) { draw(canvas); }
  });
})();

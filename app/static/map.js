/* The partnership map: zoom, pan, highlight, side panel and search over the server's SVG.
   No library, nothing loaded from the internet. Without this script the SVG still shows and
   every structure links to its page; with it, a click opens the side panel instead. */
(function () {
  "use strict";

  var frame = document.getElementById("map-frame");
  if (!frame) return;
  var svgEl = frame.querySelector("svg.map-svg");
  if (!svgEl) return;
  var SIZE = Number(svgEl.getAttribute("data-size")) || 1000;
  var panel = document.getElementById("panel-body");
  var panelTitle = document.getElementById("panel-title");
  var tools = document.getElementById("map-tools");
  var status = document.getElementById("search-status");
  var view = { x: 0, y: 0, w: SIZE, h: SIZE };
  var MIN_W = SIZE / 12;
  var LABELS_ZOOM = Number(svgEl.getAttribute("data-labels-zoom")) || 2.5;

  // --- index of structures and links ------------------------------------------------------
  var nodes = {};
  var nodeList = Array.prototype.slice.call(svgEl.querySelectorAll(".node"));
  nodeList.forEach(function (n) {
    nodes[n.getAttribute("data-id")] = { el: n, links: [], partners: {} };
  });
  Array.prototype.forEach.call(svgEl.querySelectorAll(".link"), function (l) {
    var s = l.getAttribute("data-s"), t = l.getAttribute("data-t");
    var mutual = l.getAttribute("data-mutual") === "1";
    var info = {
      el: l,
      // « < 3 » for a viewer (reports.privacy): kept as written.
      carriers: /^\d+$/.test(l.getAttribute("data-carriers")) ? Number(l.getAttribute("data-carriers")) : l.getAttribute("data-carriers"),
      fragile: l.classList.contains("fragile"),
      formal: l.classList.contains("formal"),
    };
    if (nodes[s]) {
      nodes[s].links.push(l);
      nodes[s].partners[t] = Object.assign({ rel: mutual ? "mutual" : "out" }, info);
    }
    if (nodes[t]) {
      nodes[t].links.push(l);
      nodes[t].partners[s] = Object.assign({ rel: mutual ? "mutual" : "in" }, info);
    }
  });

  function name(id) {
    return nodes[id] ? nodes[id].el.getAttribute("data-name") : "";
  }

  // --- view box: zoom and pan ---------------------------------------------------------------
  function apply() {
    svgEl.setAttribute("viewBox", [view.x, view.y, view.w, view.h].map(function (v) {
      return Math.round(v * 10) / 10;
    }).join(" "));
    var z = SIZE / view.w;
    svgEl.style.setProperty("--zoom", labelZoom(z).toFixed(3));
    svgEl.classList.toggle("zoomed", z >= LABELS_ZOOM);
  }

  // Names grow with the drawing until they are readable (READABLE px on screen), then keep
  // that size: never larger than the drawing, so the server's placement stays free of
  // overlaps at every zoom, and readable on a phone once enlarged.
  var LABEL_FONT = 15, READABLE = 12;
  function labelZoom(z) {
    var px = svgEl.getBoundingClientRect().width || SIZE;
    var atOne = LABEL_FONT * px / SIZE;  // on-screen size of a name in the whole view
    var wanted = Math.max(atOne, Math.min(atOne * z, READABLE));
    return z * atOne / wanted;
  }

  function zoom(factor, cx, cy) {
    var w = Math.min(SIZE * 1.2, Math.max(MIN_W, view.w / factor));
    var k = w / view.w;
    if (cx === undefined) { cx = view.x + view.w / 2; cy = view.y + view.h / 2; }
    view.x = cx - (cx - view.x) * k;
    view.y = cy - (cy - view.y) * k;
    view.w = w;
    view.h = w;
    apply();
  }

  function pan(dx, dy) {
    view.x += dx;
    view.y += dy;
    apply();
  }

  function reset() {
    view = { x: 0, y: 0, w: SIZE, h: SIZE };
    apply();
  }

  function toSvg(evt) {
    var ctm = svgEl.getScreenCTM();
    if (!ctm) return { x: view.x + view.w / 2, y: view.y + view.h / 2 };
    var p = svgEl.createSVGPoint();
    p.x = evt.clientX;
    p.y = evt.clientY;
    return p.matrixTransform(ctm.inverse());
  }

  function centreOn(el) {
    var box = el.querySelector(".mark").getBBox();
    var w = Math.min(view.w, SIZE / 2.5);
    view = { x: box.x + box.width / 2 - w / 2, y: box.y + box.height / 2 - w / 2, w: w, h: w };
    apply();
  }

  frame.classList.add("js");
  apply();
  window.addEventListener("resize", apply);
  frame.setAttribute("tabindex", "0");
  frame.setAttribute("aria-label", "Carte : flèches pour se déplacer, + et − pour zoomer, 0 pour la vue d'ensemble, Tab pour passer d'une structure à l'autre");
  if (tools) tools.hidden = false;

  svgEl.addEventListener("wheel", function (evt) {
    evt.preventDefault();
    var p = toSvg(evt);
    zoom(evt.deltaY < 0 ? 1.2 : 1 / 1.2, p.x, p.y);
  }, { passive: false });

  var drag = null;
  var suppressClick = false;
  svgEl.addEventListener("pointerdown", function (evt) {
    if (evt.button !== 0) return;
    drag = { x: evt.clientX, y: evt.clientY, moved: false, id: evt.pointerId };
  });
  svgEl.addEventListener("pointermove", function (evt) {
    if (!drag) return;
    var dx = evt.clientX - drag.x, dy = evt.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 5) return;
    if (!drag.moved) {
      drag.moved = true;
      frame.classList.add("dragging");
      svgEl.setPointerCapture(drag.id);
    }
    var scale = view.w / svgEl.getBoundingClientRect().width;
    pan(-dx * scale, -dy * scale);
    drag.x = evt.clientX;
    drag.y = evt.clientY;
  });
  function endDrag() {
    if (drag && drag.moved) {
      suppressClick = true;
      setTimeout(function () { suppressClick = false; }, 0);
    }
    drag = null;
    frame.classList.remove("dragging");
  }
  svgEl.addEventListener("pointerup", endDrag);
  svgEl.addEventListener("pointercancel", endDrag);

  if (tools) {
    tools.addEventListener("click", function (evt) {
      var b = evt.target.closest("button[data-zoom]");
      if (!b) return;
      var what = b.getAttribute("data-zoom");
      if (what === "in") zoom(1.4);
      else if (what === "out") zoom(1 / 1.4);
      else reset();
    });
  }

  frame.addEventListener("keydown", function (evt) {
    var step = view.w / 10;
    var handled = true;
    switch (evt.key) {
      case "ArrowLeft": pan(-step, 0); break;
      case "ArrowRight": pan(step, 0); break;
      case "ArrowUp": pan(0, -step); break;
      case "ArrowDown": pan(0, step); break;
      case "+": case "=": zoom(1.4); break;
      case "-": case "_": zoom(1 / 1.4); break;
      case "0": reset(); break;
      case "Escape": clearSelection(); break;
      default: handled = false;
    }
    if (handled) evt.preventDefault();
  });

  // --- highlighting -------------------------------------------------------------------------
  function highlight(id) {
    clearHighlight();
    var n = nodes[id];
    if (!n) return;
    svgEl.classList.add("hovering");
    n.el.classList.add("near");
    n.links.forEach(function (l) { l.classList.add("near"); });
    Object.keys(n.partners).forEach(function (p) {
      if (nodes[p]) nodes[p].el.classList.add("near");
    });
  }

  function clearHighlight() {
    svgEl.classList.remove("hovering");
    Array.prototype.forEach.call(svgEl.querySelectorAll(".near"), function (e) {
      e.classList.remove("near");
    });
  }

  var selected = null;

  function restoreHighlight() {
    if (selected) highlight(selected); else clearHighlight();
  }

  nodeList.forEach(function (el) {
    var id = el.getAttribute("data-id");
    el.addEventListener("mouseenter", function () { highlight(id); });
    el.addEventListener("mouseleave", restoreHighlight);
    el.addEventListener("focus", function () { highlight(id); });
    el.addEventListener("blur", restoreHighlight);
    el.addEventListener("click", function (evt) {
      evt.preventDefault();
      if (suppressClick) return;
      clearSearchMarks();
      select(id);
    });
    el.addEventListener("keydown", function (evt) {
      if (evt.key === " " || (evt.key === "Enter" && el.tagName.toLowerCase() === "g")) {
        evt.preventDefault();
        select(id);
      }
    });
  });

  // --- side panel ---------------------------------------------------------------------------
  // Who names whom, in words: `sel` is the structure shown in the panel, `p` a partner.
  function relation(rel, sel, p) {
    if (rel === "mutual") return sel + " et " + p + " se citent l'une l'autre";
    if (rel === "out") return sel + " cite " + p + " (sans être citée en retour)";
    return p + " cite " + sel + " (sans être citée en retour)";
  }

  function text(tag, content, cls) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    e.textContent = content;
    return e;
  }

  function row(dl, label, value) {
    dl.appendChild(text("dt", label));
    dl.appendChild(text("dd", value));
  }

  function plural(n, one, many) {
    return n + " " + (n === 1 ? one : many);
  }

  function select(id) {
    var n = nodes[id];
    if (!n || !panel) return;
    if (selected && nodes[selected]) nodes[selected].el.classList.remove("selected");
    selected = id;
    n.el.classList.add("selected");
    // The partners keep their names on the map while a structure is selected.
    svgEl.classList.add("selecting");
    highlight(id);
    var d = n.el.dataset;
    var answered = d.answered === "1";
    panelTitle.textContent = d.name;
    panel.innerHTML = "";
    panel.appendChild(text("p", d.type + (answered ? " — a répondu" : " — n'a pas répondu"), "hint"));
    if (!answered) {
      panel.appendChild(text("p", "Ses liens ne sont connus que par ce qu'en disent les autres structures : ce qui manque n'est pas une absence de partenariat.", "hint"));
    }
    var dl = document.createElement("dl");
    row(dl, "Partenaires", d.degree);
    row(dl, "Structures qu'elle cite", d.out);
    row(dl, "Structures qui la citent", d["in"]);
    row(dl, "Professionnel·les répondant", d.responded + " / " + d.invited);
    row(dl, "Liens fragiles", d.fragile || "0");
    panel.appendChild(dl);
    var ids = Object.keys(n.partners).sort(function (a, b) {
      return name(a).localeCompare(name(b), "fr");
    });
    panel.appendChild(text("h3", plural(ids.length, "partenaire", "partenaires") + ", en couleur sur la carte"));
    if (ids.length) {
      var ul = document.createElement("ul");
      ul.className = "partners";
      ids.forEach(function (p) {
        var info = n.partners[p];
        var li = document.createElement("li");
        li.setAttribute("data-partner", p);
        var b = text("button", name(p), "link");
        b.type = "button";
        b.setAttribute("data-select", p);
        b.setAttribute("aria-label", "Montrer " + name(p) + " sur la carte");
        li.appendChild(b);
        var rel = relation(info.rel, d.name, name(p)) + " · " + plural(info.carriers, "personne", "personnes");
        if (info.formal) rel += " · formel";
        if (info.fragile) rel += " · fragile";
        li.appendChild(text("span", rel, "rel"));
        var href = nodes[p].el.getAttribute("href");
        if (href) {
          var sheet = text("a", "sa fiche", "sheet");
          sheet.href = href;
          sheet.setAttribute("aria-label", "sa fiche (" + name(p) + ")");
          li.appendChild(document.createTextNode(" "));
          li.appendChild(sheet);
        }
        ul.appendChild(li);
      });
      panel.appendChild(ul);
    }
    var more = document.createElement("p");
    var a = document.createElement("a");
    a.href = n.el.getAttribute("href") || "#";
    a.textContent = "Voir la fiche de " + d.name;
    more.appendChild(a);
    panel.appendChild(more);
  }

  function clearSearchMarks() {
    Array.prototype.forEach.call(svgEl.querySelectorAll(".node.highlight"), function (e) {
      e.classList.remove("highlight");
    });
  }

  function clearSelection() {
    if (selected && nodes[selected]) nodes[selected].el.classList.remove("selected");
    selected = null;
    svgEl.classList.remove("selecting");
    clearHighlight();
  }

  if (panel) {
    panel.addEventListener("click", function (evt) {
      var b = evt.target.closest("button[data-select]");
      if (!b) return;
      var id = b.getAttribute("data-select");
      select(id);
      centreOn(nodes[id].el);
      nodes[id].el.focus();
    });
  }

  // --- search -------------------------------------------------------------------------------
  // survey.directory.normalize_name, as the server searches without this script: accents,
  // case, ligatures, punctuation (« ’ » or « ' », hyphens) and spacing do not count.
  function fold(s) {
    return s.replace(/[œŒ]/g, "oe").replace(/[æÆ]/g, "ae").replace(/[ßẞ]/g, "ss")
      .normalize("NFKD").replace(/\p{M}/gu, "")
      .replace(/[\p{P}\p{S}\p{Z}\p{C}]+/gu, " ")
      .toLowerCase().replace(/\s+/g, " ").trim();
  }

  var form = document.getElementById("map-search");
  if (form) {
    form.addEventListener("submit", function (evt) {
      var typed = (form.querySelector("input[name=recherche]").value || "").trim();
      var q = fold(typed);
      if (!q) return;
      evt.preventDefault();
      clearSearchMarks();
      var hits = nodeList.filter(function (el) {
        return fold(el.getAttribute("data-name")).indexOf(q) !== -1;
      });
      var exact = hits.filter(function (el) { return fold(el.getAttribute("data-name")) === q; });
      if (exact.length === 1) hits = exact;
      if (!hits.length) {
        status.textContent = "Aucune structure ne contient « " + typed + " » dans ce qui est montré.";
        return;
      }
      hits.forEach(function (el) { el.classList.add("highlight"); });
      if (hits.length === 1) {
        var id = hits[0].getAttribute("data-id");
        status.textContent = "Trouvée : " + name(id) + ".";
        select(id);
        centreOn(hits[0]);
        hits[0].focus();
      } else {
        status.textContent = hits.length + " structures trouvées, entourées sur la carte. Choisissez-en une :";
        panelTitle.textContent = "Résultats de la recherche";
        panel.innerHTML = "";
        var ul = document.createElement("ul");
        ul.className = "partners";
        hits.forEach(function (el) {
          var li = document.createElement("li");
          var b = text("button", el.getAttribute("data-name"), "link");
          b.type = "button";
          b.setAttribute("data-select", el.getAttribute("data-id"));
          li.appendChild(b);
          ul.appendChild(li);
        });
        panel.appendChild(ul);
      }
    });
  }
})();

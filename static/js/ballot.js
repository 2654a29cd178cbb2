// Live running total on the ballot page. The form works without this script.
(function () {
  "use strict";
  var form = document.querySelector("form.ballot");
  if (!form) return;
  var out = form.querySelector(".running-total");
  var type = form.dataset.ballotType;
  var budget = parseFloat(form.dataset.budget);
  var points = parseInt(form.dataset.points, 10);
  var max = parseInt(form.dataset.max, 10);
  var lang = document.documentElement.lang || "zh-hans";
  var zh = lang.indexOf("zh") === 0;
  function fmt(n) { return n.toLocaleString(zh ? "zh-CN" : "en", { maximumFractionDigits: 2 }); }
  function update() {
    var inputs = form.querySelectorAll("[data-cost]");
    var cost = 0, count = 0, sum = 0;
    inputs.forEach(function (el) {
      if (el.type === "checkbox") {
        if (el.checked) { cost += parseFloat(el.dataset.cost); count += 1; }
      } else if (el.value) {
        var v = parseInt(el.value, 10) || 0;
        if (v > 0) { count += 1; sum += v; cost += parseFloat(el.dataset.cost); }
      }
    });
    var text, over = false;
    if (type === "knapsack") {
      over = cost > budget;
      text = zh ? "已选 " + fmt(cost) + " 元，预算 " + fmt(budget) + " 元" + (over ? "，超出预算！" : "")
                : "Chosen " + fmt(cost) + " of " + fmt(budget) + " yuan" + (over ? ": over budget!" : "");
    } else if (type === "cumulative") {
      over = sum > points;
      text = zh ? "已分配 " + sum + " / " + points + " 分" : sum + " of " + points + " points given";
    } else {
      over = count > max;
      text = zh ? "已选 " + count + " / 最多 " + max + " 个" : count + " chosen, at most " + max;
    }
    out.textContent = text;
    out.classList.toggle("error", over);
    out.hidden = false;
  }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();

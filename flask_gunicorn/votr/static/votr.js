// The pages' only script: forms are sent to the JSON API (which refuses anything but
// application/json, so another site's form cannot vote for you), results are refreshed
// from it. Data from the API is only ever set as textContent, never as HTML.
"use strict";

const REFRESH_MS = 3000;

async function send(url, body) {
  const response = await fetch(url, {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error || response.statusText);
  return answer;
}

function showError(form, error) {
  const box = form.parentElement.querySelector(".error");
  box.textContent = error ? error.message : "";
  box.hidden = !error;
}

function createPoll(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const closesAt = form.elements.closes_at.value;
    const body = {
      question: form.elements.question.value,
      options: form.elements.options.value.split("\n").map((line) => line.trim()).filter(Boolean),
      // datetime-local is the browser's local time; the API wants an offset.
      closes_at: closesAt ? new Date(closesAt).toISOString() : null,
    };
    try {
      const poll = await send(form.dataset.api, body);
      location.assign(`${form.dataset.pollsPage}${poll.id}`);
    } catch (error) {
      showError(form, error);
    }
  });
}

function showResults(poll) {
  for (const option of poll.options) {
    const row = document.querySelector(`#results [data-option-id="${option.id}"]`);
    const percent = poll.total_votes ? Math.round((option.votes * 100) / poll.total_votes) : 0;
    row.querySelector(".votes").textContent = option.votes;
    row.querySelector(".percent").textContent = percent;
    row.querySelector("rect").setAttribute("width", `${percent}%`);
  }
  document.getElementById("total-votes").textContent = poll.total_votes;
  document.getElementById("status").textContent = poll.status;
  if (poll.status === "closed") document.getElementById("vote").hidden = true;
}

function followPoll(article) {
  const form = document.getElementById("vote");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      showResults(await send(article.dataset.votesApi, {option_id: Number(form.elements.option_id.value)}));
      form.hidden = true;
      document.getElementById("voted").hidden = false;
      showError(form);
    } catch (error) {
      showError(form, error);
    }
  });
  if (article.dataset.status === "closed") return;
  const timer = setInterval(async () => {
    const response = await fetch(article.dataset.resultsApi);
    if (!response.ok) return;
    const poll = await response.json();
    showResults(poll);
    if (poll.status === "closed") clearInterval(timer);
  }, REFRESH_MS);
}

const creator = document.getElementById("create-poll");
if (creator) createPoll(creator);
const article = document.getElementById("poll");
if (article) followPoll(article);
for (const time of document.querySelectorAll("time")) {
  time.textContent = new Date(time.dateTime).toLocaleString();
}

// Gatehouse approval page: sign in with a passkey, read what agents ask for, approve or deny
// with a passkey. No framework and no inline code (the CSP allows only this file); every
// value from the server is inserted with textContent, never as markup. The browser's own
// WebAuthn JSON methods (parseCreationOptionsFromJSON, parseRequestOptionsFromJSON,
// toJSON) carry the ceremonies, so no WebAuthn library is needed.

const $ = (id) => document.getElementById(id);

/** A refused API call: the HTTP status and the server's public reason and message. */
class ApiError extends Error {
  constructor(status, reason, message) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

let csrfToken = "";

async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method === "POST" && csrfToken) headers["x-csrf-token"] = csrfToken;
  const response = await fetch(`/approve/api/${path}`, {
    method,
    headers,
    credentials: "same-origin",
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new ApiError(response.status, data.reason ?? "", data.message ?? response.statusText);
  }
  return data;
}

async function createPasskey(options) {
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
  const credential = await navigator.credentials.create({ publicKey });
  return credential.toJSON();
}

async function usePasskey(options) {
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
  const credential = await navigator.credentials.get({ publicKey });
  return credential.toJSON();
}

function messageOf(error) {
  if (error?.name === "NotAllowedError") return "The passkey prompt was cancelled or timed out.";
  return error instanceof ApiError ? error.message : "Something went wrong. Try again.";
}

function showStatus(text) {
  $("status").textContent = text;
}

// --- Enrollment (/approve/enroll#<invite>) ---

function enrollPage() {
  const invite = location.hash.slice(1);
  // The invite is a secret: keep it out of the address bar and the history from now on.
  history.replaceState(null, "", location.pathname);
  const button = $("register");
  if (!invite) {
    button.disabled = true;
    showStatus("This enrollment link is incomplete. Ask your operator for a new one.");
    return;
  }
  button.addEventListener("click", async () => {
    button.disabled = true; // the invite is spent by the first attempt
    try {
      showStatus("Follow your device's prompt to create the passkey…");
      const { ticket, options } = await api("POST", "enroll/options", { invite });
      const response = await createPasskey(options);
      await api("POST", "enroll/verify", { ticket, response });
      location.assign("/approve");
    } catch (error) {
      showStatus(messageOf(error));
    }
  });
}

// --- Approvals (/approve) ---

async function approvePage() {
  $("login").addEventListener("click", () => run(signIn));
  $("logout").addEventListener("click", () => run(signOut));
  await run(showSession);
}

async function run(action) {
  try {
    showStatus("");
    await action();
  } catch (error) {
    showStatus(messageOf(error));
  }
}

async function signIn() {
  const { ticket, options } = await api("POST", "login/options", {});
  const response = await usePasskey(options);
  await api("POST", "login/verify", { ticket, response });
  await showSession();
}

async function signOut() {
  await api("POST", "logout", {});
  await showSession();
}

async function showSession() {
  let session;
  try {
    session = await api("GET", "session");
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) throw error;
  }
  csrfToken = session?.csrfToken ?? "";
  $("signin").hidden = session !== undefined;
  $("grants").hidden = session === undefined;
  $("logout").hidden = session === undefined;
  $("who").hidden = session === undefined;
  if (session === undefined) return;
  $("who").textContent = `${session.approver.name}, approving for ${session.operator}`;
  await showGrants();
}

async function showGrants() {
  const { grants } = await api("GET", "grants");
  $("grant-list").replaceChildren(...grants.map(grantCard));
  $("empty").hidden = grants.length > 0;
}

function grantCard(grant) {
  const card = $("grant-card").content.firstElementChild.cloneNode(true);
  const field = (name) => card.querySelector(`[data-field="${name}"]`);
  field("agent-name").textContent = grant.agent.name;
  field("agent-did").textContent = grant.agent.did;
  fillList(field("capabilities"), grant.capabilities);
  field("audience").textContent = grant.audience;
  field("duration").textContent = `${grant.duration} once approved`;
  fillList(field("limits"), grant.limits.length > 0 ? grant.limits : ["none set"]);
  field("reason").textContent = grant.reason;
  field("expires").textContent = new Date(grant.expiresAt).toLocaleString();
  for (const button of card.querySelectorAll("button[data-decision]")) {
    button.addEventListener("click", () => decide(grant, button.dataset.decision, card));
  }
  return card;
}

function fillList(list, items) {
  list.replaceChildren(
    ...items.map((text) => {
      const item = document.createElement("li");
      item.textContent = text;
      return item;
    }),
  );
}

async function decide(grant, decision, card) {
  const buttons = card.querySelectorAll("button[data-decision]");
  const outcome = card.querySelector('[data-field="outcome"]');
  for (const button of buttons) button.disabled = true;
  try {
    outcome.textContent = "Confirm with your passkey…";
    const path = `grants/${encodeURIComponent(grant.id)}`;
    const { ticket, options } = await api("POST", `${path}/options`, { decision });
    const response = await usePasskey(options);
    const result = await api("POST", `${path}/decide`, { ticket, response });
    card.classList.add(result.grant.state);
    outcome.textContent =
      result.grant.state === "approved"
        ? `Approved by ${result.grant.decidedBy}, until ${new Date(result.grant.expiresAt).toLocaleString()}.`
        : `Denied by ${result.grant.decidedBy}.`;
  } catch (error) {
    outcome.textContent = messageOf(error);
    for (const button of buttons) button.disabled = false;
  }
}

if (document.body.dataset.page === "enroll") enrollPage();
else approvePage();

// Login with a token. Checks it at once against /whoami and, when it fails, shows the API's own
// reason and the commands that create a token (the #1 complaint about chaos dashboards).
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router-dom";
import { ApiError, call, client, setToken } from "../lib/api";

export const TOKEN_COMMANDS = [
  { where: "local mode", command: "faultline dashboard reset-token" },
  { where: "in a cluster", command: "kubectl -n faultline create token faultline-dashboard" },
];

export function Login() {
  const navigate = useNavigate();
  const [value, setValue] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await call(
        client.GET("/api/v1/whoami", {
          headers: { Authorization: `Bearer ${value.trim()}` },
        }),
      );
      setToken(value.trim());
      navigate("/");
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, String(e)));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="login">
      <h1>Faultline</h1>
      <form onSubmit={submit} aria-describedby="token-help">
        <label htmlFor="token">API token</label>
        <input
          id="token"
          type="password"
          autoComplete="off"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          required
        />
        <button type="submit" className="primary" disabled={busy || !value.trim()}>
          Log in
        </button>
      </form>
      {error ? (
        <div role="alert" className="error">
          <strong>
            {error.status === 401
              ? "The token was not accepted (401)"
              : error.status === 403
                ? "The token is valid but lacks permission (403)"
                : `Login failed (${error.status || "network"})`}
          </strong>
          <p>{error.detail}</p>
        </div>
      ) : null}
      <div id="token-help" className="help">
        <p>Create a token with:</p>
        <ul>
          {TOKEN_COMMANDS.map((c) => (
            <li key={c.command}>
              {c.where}: <code>{c.command}</code>
            </li>
          ))}
        </ul>
      </div>
    </main>
  );
}

// The dashboard shell: routes, navigation, and the login gate.
import { useQuery } from "@tanstack/react-query";
import { NavLink, Navigate, Outlet, Route, Routes, useNavigate } from "react-router-dom";
import { EmergencyStopBanner, EmergencyStopButton } from "./components/EmergencyStop";
import { call, client, getToken, setToken } from "./lib/api";
import { Archives } from "./routes/Archives";
import { ChaosDetail, ChaosList } from "./routes/Chaos";
import { Events } from "./routes/Events";
import { ExperimentDetail } from "./routes/ExperimentDetail";
import { Experiments } from "./routes/Experiments";
import { Login } from "./routes/Login";
import { NewExperiment } from "./routes/NewExperiment";
import { Overview } from "./routes/Overview";
import { Schedules } from "./routes/Schedules";

const NAV = [
  ["/", "Overview"],
  ["/experiments", "Experiments"],
  ["/experiments/new", "New experiment"],
  ["/chaos", "Chaos objects"],
  ["/schedules", "Schedules"],
  ["/events", "Events"],
  ["/archives", "Archives"],
] as const;

function Shell() {
  const navigate = useNavigate();
  const me = useQuery({
    queryKey: ["whoami"],
    queryFn: () => call(client.GET("/api/v1/whoami")),
    staleTime: 60_000,
  });
  if (!getToken()) return <Navigate to="/login" replace />;
  return (
    <div className="shell">
      <header>
        <a className="skip" href="#main">
          Skip to content
        </a>
        <span className="brand">Faultline</span>
        <nav aria-label="Main">
          {NAV.map(([to, label]) => (
            <NavLink key={to} to={to} end>
              {label}
            </NavLink>
          ))}
        </nav>
        <span className="who">
          <EmergencyStopButton />
          {me.data ? `${me.data.name} (${me.data.role || me.data.mode})` : null}
          <button
            type="button"
            onClick={() => {
              setToken(null);
              navigate("/login");
            }}
          >
            Log out
          </button>
        </span>
      </header>
      <EmergencyStopBanner />
      <main id="main">
        <Outlet />
      </main>
    </div>
  );
}

export function App() {
  return (
    <Routes>
      <Route path="/login" element={<Login />} />
      <Route element={<Shell />}>
        <Route index element={<Overview />} />
        <Route path="experiments" element={<Experiments />} />
        <Route path="experiments/new" element={<NewExperiment />} />
        <Route path="experiments/:id" element={<ExperimentDetail />} />
        <Route path="chaos" element={<ChaosList />} />
        <Route path="chaos/:kind/:namespace/:name" element={<ChaosDetail />} />
        <Route path="schedules" element={<Schedules />} />
        <Route path="events" element={<Events />} />
        <Route path="archives" element={<Archives />} />
        <Route path="*" element={<p>No such page.</p>} />
      </Route>
    </Routes>
  );
}

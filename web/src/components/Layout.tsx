import { NavLink, Outlet, useNavigate } from "react-router-dom";
import { useAuth } from "../auth";
import { KillSwitch } from "../pages/LiveTrading";

const LINKS = [
  ["/", "Dashboard"],
  ["/strategies", "Strategies"],
  ["/backtests", "Backtests"],
  ["/market", "Market"],
  ["/settings", "Settings"],
] as const;

export function Layout() {
  const { user, signOut } = useAuth();
  const nav = useNavigate();
  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <NavLink to="/" className="brand" aria-label="ApexTrade home">
          <img src="/favicon.svg" alt="" width={24} height={24} /> ApexTrade
        </NavLink>
        <nav aria-label="Main">
          {LINKS.map(([to, label]) => (
            <NavLink key={to} to={to} end={to === "/"}>
              {label}
            </NavLink>
          ))}
        </nav>
        <div className="who">
          <KillSwitch />
          <span className="muted" title={user?.email}>
            {user?.first_name || user?.email}
          </span>
          <button
            type="button"
            className="link"
            onClick={async () => {
              await signOut();
              nav("/login");
            }}
          >
            Log out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}

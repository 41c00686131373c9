import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode, type ReactNode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter, Navigate, Route, Routes, useLocation } from "react-router-dom";
import { ApiError } from "./api";
import { AuthProvider, useAuth } from "./auth";
import { Layout } from "./components/Layout";
import { Loading } from "./components/ui";
import { ForgotPage, LoginPage, ResetPage, SignupPage } from "./pages/AuthPages";
import { Dashboard } from "./pages/Dashboard";
import { Market } from "./pages/Market";
import { BacktestCompare, BacktestList, BacktestNew, BacktestResult } from "./pages/Backtests";
import { PortfolioPage } from "./pages/Portfolio";
import { Settings } from "./pages/Settings";
import { Strategies, StrategyDetail } from "./pages/Strategies";
import { StrategyEdit } from "./pages/StrategyEdit";
import "./styles.css";

const queries = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      refetchOnWindowFocus: false,
      // A refused request (4xx) is not tried again; a server or network failure twice.
      retry: (n, e) => !(e instanceof ApiError && e.status < 500) && n < 2,
    },
  },
});

function RequireAuth({ children }: { children: ReactNode }) {
  const { user, ready } = useAuth();
  const loc = useLocation();
  if (!ready) return <Loading what="Opening your session" />;
  if (!user) return <Navigate to="/login" replace state={{ next: loc.pathname + loc.search }} />;
  return <>{children}</>;
}

function NotFound() {
  return (
    <div className="page">
      <h1>Not found</h1>
      <p>There is no page here.</p>
    </div>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <BrowserRouter>
        <AuthProvider>
          <Routes>
            <Route path="/login" element={<LoginPage />} />
            <Route path="/signup" element={<SignupPage />} />
            <Route path="/forgot" element={<ForgotPage />} />
            <Route path="/reset" element={<ResetPage />} />
            <Route
              element={
                <RequireAuth>
                  <Layout />
                </RequireAuth>
              }
            >
              <Route index element={<Dashboard />} />
              <Route path="strategies" element={<Strategies />} />
              <Route path="strategies/new" element={<StrategyEdit />} />
              <Route path="strategies/:id" element={<StrategyDetail />} />
              <Route path="strategies/:id/edit" element={<StrategyEdit />} />
              <Route path="backtests" element={<BacktestList />} />
              <Route path="backtests/new" element={<BacktestNew />} />
              <Route path="backtests/compare" element={<BacktestCompare />} />
              <Route path="backtests/:id" element={<BacktestResult />} />
              <Route path="portfolios/:id" element={<PortfolioPage />} />
              <Route path="market" element={<Market />} />
              <Route path="settings" element={<Settings />} />
              <Route path="*" element={<NotFound />} />
            </Route>
          </Routes>
        </AuthProvider>
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);

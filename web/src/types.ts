// The API's shapes the pages read (src/api/openapi.json has them all). Money is a decimal string.
export type Page<T> = { items: T[]; total: number; page: number; limit: number };

export type Portfolio = {
  id: string;
  name: string;
  description: string | null;
  base_currency: string;
  is_paper: boolean;
  initial_balance: string;
  cash_balance: string;
  is_active: boolean;
  created_at: string;
};

export type Performance = {
  portfolio_id: string;
  base_currency: string;
  initial_balance: string;
  cash_balance: string;
  current_equity: string;
  total_return_pct: number | null;
  max_drawdown_pct: number | null;
  total_trades: number;
};

export type Position = {
  id: string;
  portfolio_id: string;
  symbol: string;
  quantity: string;
  average_entry_price: string;
  current_price: string | null;
  unrealized_pnl: string | null;
  unrealized_pnl_pct: number | null;
  is_open: boolean;
  opened_at: string;
};

export type PortfolioTrade = {
  id: string;
  portfolio_id: string;
  strategy_id: string | null;
  symbol: string;
  side: "BUY" | "SELL";
  order_type: string;
  quantity: string;
  price: string | null;
  filled_quantity: string | null;
  filled_price: string | null;
  commission: string | null;
  status: string;
  created_at: string;
  filled_at: string | null;
  error?: string | null; // a live order's failure, or why it waits
};

export type Strategy = {
  id: string;
  name: string;
  description: string | null;
  version: number;
  asset_symbol: string;
  timeframe: string;
  status: string;
  trading_mode: string | null;
  created_at: string;
  updated_at: string;
  activated_at: string | null;
};

export type SymbolInfo = { symbol: string; timeframe: string; first: string; last: string; candles: number };

export type Candle = { time: string; open: number; high: number; low: number; close: number; volume: number };

export type Ticker = { symbol: string; price: number | string; change_24h_pct: number | null; timestamp: string };

export type Backtest = {
  id: string;
  strategy_id: string;
  status: string;
  progress_pct: number;
  start_date: string | null;
  end_date: string | null;
  initial_capital: string;
  commission_pct: number;
  slippage_pct: number;
  error_message: string | null;
  final_capital: string | null;
  total_return_pct: number | null;
  cagr_pct: number | null;
  sharpe_ratio: number | null;
  sortino_ratio: number | null;
  max_drawdown_pct: number | null;
  win_rate_pct: number | null;
  total_trades: number | null;
  profit_factor: number | null;
  monthly_returns: unknown;
  stats: Record<string, unknown> | null;
  created_at: string;
  completed_at: string | null;
};

export type BacktestTrade = {
  entry_time: string;
  exit_time: string | null;
  side: string;
  quantity: string;
  entry_price: string;
  exit_price: string | null;
  gross_pnl: string | null;
  commission: string | null;
  net_pnl: string | null;
  return_pct: number | null;
  bars: number | null;
  exit_reason: string | null;
};

/** A stored broker key as the API shows it: never the secret, only a masked hint. */
export type ApiKey = { id: string; exchange: string; label: string; key_hint: string; is_paper: boolean; created_at: string; last_used_at: string | null };

ALTER TABLE `orders` ADD `dispute_status` text;--> statement-breakpoint
ALTER TABLE `orders` ADD `stock_taken_at` integer;--> statement-breakpoint
ALTER TABLE `reconcile_runs` ADD `stripe_calls` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `reconcile_runs` ADD `is_capped` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `reconcile_runs` ADD `is_sessions_walked` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `stripe_events` ADD `outcome` text;
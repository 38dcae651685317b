CREATE TABLE `refunds` (
	`id` integer PRIMARY KEY NOT NULL,
	`stripe_refund_id` text NOT NULL,
	`order_id` integer NOT NULL,
	`amount_cents` integer NOT NULL,
	`form_nonce` text,
	`admin_user_id` integer,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	FOREIGN KEY (`order_id`) REFERENCES `orders`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `refunds_stripe_refund_id_unique` ON `refunds` (`stripe_refund_id`);--> statement-breakpoint
CREATE INDEX `refunds_order_idx` ON `refunds` (`order_id`);--> statement-breakpoint
ALTER TABLE `stock_holds` ADD `client_key` text;--> statement-breakpoint
CREATE INDEX `stock_holds_client_idx` ON `stock_holds` (`client_key`,`variant_id`,`status`);
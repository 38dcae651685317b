CREATE TABLE `download_grants` (
	`id` integer PRIMARY KEY NOT NULL,
	`order_id` integer NOT NULL,
	`order_line_id` integer NOT NULL,
	`product_id` integer NOT NULL,
	`token_hash` text NOT NULL,
	`download_limit` integer NOT NULL,
	`download_count` integer DEFAULT 0 NOT NULL,
	`expires_at` integer NOT NULL,
	`revoked_at` integer,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	FOREIGN KEY (`order_id`) REFERENCES `orders`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`order_line_id`) REFERENCES `order_lines`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "download_grants_count_within_limit" CHECK("download_grants"."download_count" <= "download_grants"."download_limit")
);
--> statement-breakpoint
CREATE UNIQUE INDEX `download_grants_order_line_id_unique` ON `download_grants` (`order_line_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `download_grants_token_hash_unique` ON `download_grants` (`token_hash`);--> statement-breakpoint
CREATE INDEX `download_grants_order_idx` ON `download_grants` (`order_id`);--> statement-breakpoint
CREATE TABLE `product_files` (
	`product_id` integer PRIMARY KEY NOT NULL,
	`storage_key` text NOT NULL,
	`file_name` text NOT NULL,
	`content_type` text NOT NULL,
	`size_bytes` integer NOT NULL,
	`updated_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	FOREIGN KEY (`product_id`) REFERENCES `products`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `product_files_storage_key_unique` ON `product_files` (`storage_key`);
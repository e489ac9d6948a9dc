INSERT INTO actions(key,run_id,as_of,policy,policy_version,rule,step,customer_id,invoice_ids,kind,tone,template,scheduled_at,priority,assignee,status,reason) VALUES
('r1',NULL,'2026-06-01','once',1,'over_limit',NULL,'C1','[]','hold',NULL,NULL,'x',NULL,NULL,'scheduled','x'),
('r2',NULL,'2026-06-24','once',1,'big_invoice',NULL,'C1','["I1"]','task',NULL,NULL,'x',NULL,NULL,'scheduled','x'),
('r3',NULL,'2026-05-31','once',1,'over_limit',NULL,'C2','[]','hold',NULL,NULL,'x',NULL,NULL,'scheduled','x'),
('r4',NULL,'2026-06-23','once',1,'big_invoice',NULL,'C2','["I2"]','task',NULL,NULL,'x',NULL,NULL,'sent','x'),
('r5',NULL,'2026-06-29','once',1,'big_invoice',NULL,'C3','["I3b"]','task',NULL,NULL,'x',NULL,NULL,'scheduled','x');

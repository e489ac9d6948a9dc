INSERT INTO actions(key,run_id,as_of,policy,policy_version,rule,step,customer_id,invoice_ids,kind,tone,template,scheduled_at,priority,assignee,status,reason) VALUES
('a1',NULL,'2026-08-17','caps',1,'dunning','1d','C1','["I0"]','email','friendly','email-friendly','x',NULL,NULL,'scheduled','x'),
('a2',NULL,'2026-08-18','caps',1,'dunning','7d','C1','["I0"]','email','neutral','email-neutral','x',NULL,NULL,'scheduled','x'),
('a3',NULL,'2026-09-01','caps',1,'dunning','1d','C1','["I1"]','email','friendly','email-friendly','x',NULL,NULL,'sent','x'),
('a4',NULL,'2026-09-09','caps',1,'dunning','7d','C1','["I1"]','email','neutral','email-neutral','x',NULL,NULL,'scheduled','x'),
('a5',NULL,'2026-09-10','caps',1,'legacy','x','C1','[]','letter','firm','letter-firm','x',NULL,NULL,'deferred','x'),
('a6',NULL,'2026-09-10','caps',1,'legacy','x','C1','[]','hold',NULL,NULL,'x',NULL,NULL,'scheduled','x'),
('a7',NULL,'2026-09-11','caps',1,'legacy','x','C1','[]','email','neutral','email-neutral','x',NULL,NULL,'skipped','x'),
('a8',NULL,'2026-09-12','caps',1,'legacy','x','C1','[]','call','firm','call-firm','x',NULL,NULL,'scheduled','x'),
('a9',NULL,'2026-09-16','caps',1,'legacy','y','C1','[]','email','firm','email-firm','x',NULL,NULL,'scheduled','x'),
('b1',NULL,'2026-08-20','caps',1,'legacy','x','C2','[]','email','neutral','email-neutral','x',NULL,NULL,'scheduled','x'),
('b2',NULL,'2026-08-25','caps',1,'legacy','x','C2','[]','sms','neutral','sms-neutral','x',NULL,NULL,'sent','x'),
('b3',NULL,'2026-09-01','caps',1,'dunning','1d','C2','["I2"]','email','friendly','email-friendly','x',NULL,NULL,'scheduled','x'),
('b4',NULL,'2026-09-07','caps',1,'dunning','7d','C2','["I2"]','email','neutral','email-neutral','x',NULL,NULL,'scheduled','x');

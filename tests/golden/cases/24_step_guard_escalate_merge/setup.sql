INSERT INTO actions(key,run_id,as_of,policy,policy_version,rule,step,customer_id,invoice_ids,kind,tone,template,scheduled_at,priority,assignee,status,reason) VALUES
('r1',NULL,'2026-03-07','acme-b2b',3,'dunning','-3d','C1','["I1","I2"]','email','friendly','upcoming-due','x',NULL,NULL,'scheduled','x'),
('r2',NULL,'2026-03-11','acme-b2b',3,'dunning','1d','C1','["I1","I2"]','email','friendly','email-friendly','x',NULL,NULL,'scheduled','x'),
('r3',NULL,'2026-03-17','acme-b2b',3,'dunning','7d','C1','["I1","I2"]','email','neutral','email-neutral','x',NULL,NULL,'sent','x'),
('r4',NULL,'2026-03-20','acme-b2b',3,'dunning','7d','C1','["I1","I2"]','sms','neutral','sms-neutral','x',NULL,NULL,'sent','x'),
('r5',NULL,'2026-03-25','acme-b2b',3,'dunning','15d','C1','["I1","I2"]','call','firm','call-firm','x',800.0,NULL,'scheduled','x'),
('r6',NULL,'2026-03-28','acme-b2b',3,'dunning','15d','C1','["I1","I2"]','email','firm','email-firm','x',NULL,NULL,'scheduled','x'),
('r7',NULL,'2026-04-09','acme-b2b',3,'dunning','30d','C1','["I1"]','letter','final','letter-final','x',NULL,NULL,'scheduled','x'),
('r8',NULL,'2026-04-09','acme-b2b',3,'dunning','30d','C1','["I1"]','hold',NULL,NULL,'x',NULL,NULL,'scheduled','x');

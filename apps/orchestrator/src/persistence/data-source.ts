/** Entry point of the TypeORM CLI (`npm run migration:run`), on the compiled output. */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { validateConfig } from '../config/app-config.js';
import { dataSourceOptions } from './data-source-options.js';

const config = validateConfig(process.env);

export default new DataSource(dataSourceOptions(config.DATABASE_URL, 2));

/** Every workflow type a committed history may name: the replay test's bundle. */
export * from '../../workflows/index';
export * from './index';
